from django.core.exceptions import PermissionDenied


def require(actor, permission: str) -> None:
    """Services check the permission of the person acting, whatever the entry point."""
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        raise PermissionDenied(f"requires permission {permission}")
