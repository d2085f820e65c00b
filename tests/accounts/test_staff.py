"""Staff roles are Django groups with exactly the permissions in accounts/roles.py."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from orderdesk.accounts.roles import CSR_PERMISSIONS, SUPERVISOR_PERMISSIONS
from orderdesk.accounts.services import roles_ensure

pytestmark = pytest.mark.django_db


def group_permissions(name):
    group = Group.objects.get(name=name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_roles_are_groups_with_exactly_their_permissions():
    roles_ensure()
    assert group_permissions("CSR") == set(CSR_PERMISSIONS)
    assert group_permissions("Supervisor") == set(SUPERVISOR_PERMISSIONS)


def test_only_a_supervisor_may_override_record_external_payments_and_cancel():
    privileged = {
        "orders.override_ship_gate",
        "orders.record_external_payment",
        "orders.cancel_order",
    }
    assert privileged.isdisjoint(CSR_PERMISSIONS)
    assert privileged <= set(SUPERVISOR_PERMISSIONS)


def test_roles_ensure_removes_a_permission_granted_by_hand():
    from django.contrib.auth.models import Permission

    roles_ensure()
    group = Group.objects.get(name="CSR")
    group.permissions.add(Permission.objects.get(codename="override_ship_gate"))
    roles_ensure()
    assert group_permissions("CSR") == set(CSR_PERMISSIONS)


@pytest.mark.parametrize(("role", "group"), [("csr", "CSR"), ("supervisor", "Supervisor")])
def test_createstaff_creates_a_staff_user_in_the_role_group(role, group, capsys):
    call_command(
        "createstaff",
        "dana",
        "--role",
        role,
        "--password",
        "s3cret-enough",
        "--name",
        "Dana Scully",
    )
    user = get_user_model().objects.get(username="dana")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("s3cret-enough")
    assert (user.first_name, user.last_name) == ("Dana", "Scully")
    assert list(user.groups.values_list("name", flat=True)) == [group]
    assert user.has_perm("orders.ship_order")
    assert user.has_perm("orders.override_ship_gate") == (role == "supervisor")
    assert f"dana can log in as {role}" in capsys.readouterr().out


def test_createstaff_again_changes_the_role_and_password():
    call_command("createstaff", "sam", "--role", "csr", "--password", "first-password")
    call_command("createstaff", "sam", "--role", "supervisor", "--password", "second-password")
    user = get_user_model().objects.get(username="sam")
    assert list(user.groups.values_list("name", flat=True)) == ["Supervisor"]
    assert user.check_password("second-password")
    assert get_user_model().objects.filter(username="sam").count() == 1


def test_createstaff_refuses_a_short_password():
    with pytest.raises(CommandError, match="at least 8"):
        call_command("createstaff", "kim", "--role", "csr", "--password", "short")
    assert not get_user_model().objects.filter(username="kim").exists()


def test_the_orderdesk_cli_createstaff_is_non_interactive_with_a_password():
    from orderdesk.cli import main

    assert main(["createstaff", "lee", "--role", "supervisor", "--password", "long-enough-pw"]) == 0
    user = get_user_model().objects.get(username="lee")
    assert user.groups.get().name == "Supervisor"
