"""Backup and restore: a restored database holds every order, authorization and timeline row
exactly as backed up, on SQLite (online backup) and PostgreSQL (pg_dump / pg_restore)."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from orderdesk.links.services import link_send_reauthorization
from orderdesk.orders.models import Order
from orderdesk.workflows import cancellation
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = ["orders_order", "payments_authorization", "orders_orderevent", "orders_orderline"]


def rows() -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        result = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            result[table] = cursor.fetchall()
        return result


def some_business(csr, supervisor):
    for number in range(3):
        authorize(make_order(number=f"BK-{number}", total=10_000 + number))
    authorize(make_order(number="BK-FAILED"), DECLINE_CARD)
    linked = make_order(number="BK-LINK")
    authorize(linked)
    link_send_reauthorization(order=linked, actor=csr)
    cancellation.order_cancel(order=make_order(number="BK-CANCEL"), actor=supervisor, note="asked")


def test_a_restored_backup_holds_every_order_authorization_and_timeline_row(
    tmp_path, csr, supervisor
):
    some_business(csr, supervisor)
    before = rows()
    assert all(before[table] for table in TABLES)
    call_command("backup", str(tmp_path / "orderdesk.backup"))
    call_command("flush", "--no-input")  # a fresh, empty database
    assert not Order.objects.exists()
    call_command("restore", str(tmp_path / "orderdesk.backup"))
    assert rows() == before
    assert Order.objects.get(number="BK-CANCEL").status == "cancelled"


def test_a_backup_never_overwrites_a_file_unless_asked(tmp_path, csr, supervisor):
    target = tmp_path / "exists.backup"
    target.write_text("keep me")
    with pytest.raises(CommandError, match="exists; choose a new file name"):
        call_command("backup", str(target))
    assert target.read_text() == "keep me"
    call_command("backup", str(target), "--overwrite")
    assert target.stat().st_size > 1000


def test_restoring_a_file_that_is_no_backup_is_refused_and_changes_nothing(tmp_path, csr):
    make_order(number="BK-KEPT")
    before = rows()
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    with pytest.raises(CommandError, match="is not"):
        call_command("restore", str(bogus))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.backup"))
    assert rows() == before


def test_the_orderdesk_command_explains_a_refused_backup_in_one_line(tmp_path):
    target = tmp_path / "exists.backup"
    target.write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "orderdesk.cli", "backup", str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "ORDERDESK_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"orderdesk backup: {target} exists; choose a new file name"
