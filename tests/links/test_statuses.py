"""A payment link's status moves only along its table, through one helper that writes the timeline."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from orderdesk.common.clock import now
from orderdesk.common.statemachine import TransitionNotAllowed
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import (
    link_revoke,
    link_send_reauthorization,
    link_transition,
    links_expire,
)
from orderdesk.links.statuses import LINK_STATUS_MACHINE
from orderdesk.orders.models import EventKind
from tests.factories import make_order

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[2] / "src" / "orderdesk"


def test_an_open_link_closes_one_way_and_a_closed_link_never_moves_again():
    closed = [status for status in LinkStatus.values if status != LinkStatus.OPEN]
    assert LINK_STATUS_MACHINE.targets(LinkStatus.OPEN) == frozenset(closed)
    for status in closed:
        assert LINK_STATUS_MACHINE.targets(status) == frozenset()


def test_a_transition_outside_the_table_is_refused_and_changes_nothing(csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    link_revoke(link=sent.link, actor=csr)
    link = PaymentLink.objects.get(pk=sent.link.pk)
    events = order.events.count()
    with pytest.raises(TransitionNotAllowed):
        link_transition(link, LinkStatus.COMPLETED, text="approved", order=order)
    assert PaymentLink.objects.get(pk=link.pk).status == LinkStatus.REVOKED
    assert order.events.count() == events


def test_a_transition_from_a_status_read_before_another_change_writes_nothing(csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    stale = PaymentLink.objects.get(pk=sent.link.pk)  # read while open
    link_revoke(link=sent.link, actor=csr)
    events = order.events.count()
    assert not link_transition(stale, LinkStatus.EXPIRED, text="expired", order=order)
    assert PaymentLink.objects.get(pk=stale.pk).status == LinkStatus.REVOKED
    assert order.events.count() == events


def test_the_expiry_upkeep_moves_only_open_links_and_writes_one_row_each(csr):
    order = make_order()
    revoked = link_send_reauthorization(order=order, actor=csr).link
    opened = link_send_reauthorization(order=order, actor=csr, confirm=True).link
    with time_machine.travel(now() + timedelta(days=15)):
        assert links_expire() == 1
    statuses = dict(PaymentLink.objects.values_list("pk", "status"))
    assert statuses == {revoked.pk: LinkStatus.REVOKED, opened.pk: LinkStatus.EXPIRED}
    assert order.events.filter(kind=EventKind.LINK_EXPIRED).count() == 1


def test_no_link_status_is_assigned_outside_the_transition_helper():
    # An assignment to a link's status, or an UPDATE that sets one (filters are fine).
    by_hand = re.compile(
        r"(link\w*\.status\s*=(?!=)|\.status\s*=\s*LinkStatus|\.update\(.*\bstatus=LinkStatus)"
    )
    allowed = {SOURCE / "links" / "services" / "records.py", SOURCE / "links" / "models.py"}
    found = [
        f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
        for path in SOURCE.rglob("*.py")
        if path not in allowed and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert found == []
