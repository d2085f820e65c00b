from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from orderdesk.accounts.models import Account
from orderdesk.accounts.roles import ROLE_PERMISSIONS, ROLES


def roles_ensure() -> None:
    """Create or update the staff groups with exactly their permissions (idempotent)."""
    for group_name, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = []
        for dotted in permission_names:
            app_label, codename = dotted.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


@transaction.atomic
def staff_create(*, username: str, role: str, password: str, email: str = "", name: str = ""):
    """Create (or update) a staff user in the given role: 'csr' or 'supervisor'."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    roles_ensure()
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    first, _, last = name.partition(" ")
    user.first_name, user.last_name = first, last
    user.email = email
    user.is_staff = True
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=ROLES[role])])
    return user


def account_create(
    *, name: str, ecommerce_email: str, phone: str = "", crm_id: str = ""
) -> Account:
    return Account.objects.create(
        name=name, ecommerce_email=ecommerce_email, phone=phone, crm_id=crm_id
    )


def account_for_email(*, email: str, name: str, phone: str = "") -> Account:
    """The account on record for this e-commerce e-mail address (any case), or a new one."""
    existing = Account.objects.filter(ecommerce_email__iexact=email).order_by("id").first()
    return existing or account_create(name=name, ecommerce_email=email, phone=phone)
