import pytest

from orderdesk.crm.services import crm_message_queue
from tests.factories import make_order


@pytest.fixture
def replaced_message(db):
    """An `order.replaced` message as the price-increase flow queues it."""
    old = make_order(total=10_000)
    new = make_order(total=14_500, account=old.account)
    return crm_message_queue(
        topic="order.replaced",
        payload={
            "old_number": old.number,
            "new_number": new.number,
            "old_crm_id": "",
            "account_crm_id": "",
            "old_total": old.total,
            "new_total": new.total,
            "currency": new.currency,
        },
        dedupe_key=f"order.replaced:test-{old.number}",
        order=new,
    )
