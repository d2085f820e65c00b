"""Who may open a dashboard page or act on an order: enforced here, whatever the page shows."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

VIEW_PERMISSION = "orders.view_order"


def staff_required(*permissions: str):
    """Anonymous people go to the log-in page; others need staff status and the permissions."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_staff or not user.has_perms((VIEW_PERMISSION, *permissions)):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
