"""The plain-text part of an e-mail is plain text: nothing in it is HTML-escaped."""

import pytest

from orderdesk.links.services import link_send_reauthorization
from tests.factories import make_account, make_order
from tests.notifications.smtp import deliver_emails, html_of, text_of

# The worker delivers over SMTP on its own connections: the test commits, as a request would.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_named_o_brien_reads_o_brien_in_the_text_part(csr, smtp_server, settings):
    settings.ORDERDESK_BUSINESS_NAME = "Fix & Mend's"
    account = make_account(name="Seán O'Brien <Jr.>")
    order = make_order(account=account)
    link_send_reauthorization(order=order, actor=csr)
    deliver_emails()
    [message] = smtp_server.to(account.ecommerce_email)
    text = text_of(message)
    assert "Hello Seán O'Brien <Jr.>," in text
    assert "Fix & Mend's" in text and "&#x27;" not in text and "&amp;" not in text
    assert "Fix & Mend's" in message["Subject"]
    # The HTML part still escapes, as HTML must.
    assert "O&#x27;Brien &lt;Jr.&gt;" in html_of(message)
