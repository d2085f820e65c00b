"""What the server log says: a refused action in one line, no payment-link token."""

import io
import logging

import pytest

from orderdesk.common.logs import RefusalFilter
from orderdesk.links.services import link_revoke, link_send_reauthorization
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """The console handler of settings.LOGGING, writing into a buffer for the test."""
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(item, RefusalFilter) for item in handler.filters)
    )
    # Swapped without setStream, which flushes the old stream: pytest may have closed it.
    stream, previous = io.StringIO(), handler.stream
    handler.stream = stream
    yield stream
    handler.stream = previous


def test_a_refused_action_is_logged_as_one_line_without_a_traceback(client, console):
    from django.contrib.auth import get_user_model

    order = make_order()
    nobody = get_user_model().objects.create_user("plain", password="x-y-z-secret", is_staff=True)
    client.force_login(nobody)
    assert client.post(f"/orders/{order.number}/links/reauthorize/").status_code == 403
    lines = [line for line in console.getvalue().splitlines() if "django.request" in line]
    assert len(lines) == 1
    assert "Forbidden" in lines[0] and f"/orders/{order.number}/links/reauthorize/" in lines[0]
    assert "Traceback" not in console.getvalue()


def test_django_request_lines_keep_no_payment_link_token(client, csr, console):
    sent = link_send_reauthorization(order=make_order(), actor=csr)
    link_revoke(link=sent.link, actor=csr)
    token = sent.url.rsplit("/", 1)[1]
    assert client.get(f"/pay/{token}").status_code == 404
    assert client.get(f"/pay/{token}/paypal/return?token=abc").status_code in (302, 404)
    text = console.getvalue()
    assert "Not Found: /pay/[token]" in text
    assert token not in text
