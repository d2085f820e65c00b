"""What the panel and the order screen show of a failed order's amount, and of unknown filters."""

import pytest
from django.urls import reverse

from orderdesk.orders.models import PaymentState
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.unpaid.rows import SORTS
from tests.dashboard.scenario import aged_authorization
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def failed_after_expiry():
    """Authorized 31 days ago (lapsed), then a new attempt declined: the payment failed."""
    order = make_order(total=71_797)
    aged_authorization(order, days_ago=31)
    authorizations_expire()
    authorize(order, DECLINE_CARD)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED
    assert order.authorized_amount == 71_797
    return order


def test_a_failed_order_whose_authorization_expired_shows_nothing_authorized(client, csr):
    order = failed_after_expiry()
    client.force_login(csr)
    html = client.get(reverse("dashboard:order", args=[order.number])).content.decode()
    authorized = html.split('data-testid="authorized">', 1)[1].split("</dd>", 1)[0]
    assert authorized.startswith("Nothing")
    assert "the authorization of USD 717.97 expired" in authorized
    assert "the last authorization attempt failed" in authorized


def test_the_panel_authorized_column_shows_an_expired_hold_as_expired(client, csr):
    order = failed_after_expiry()
    live = make_order(total=5_000)
    authorize(live)
    client.force_login(csr)
    html = client.get(reverse("dashboard:index"), {"group": "failed"}).content.decode()
    row = html.split(f'href="/orders/{order.number}/"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="muted">—</span><span class="sub">USD 717.97 expired</span>' in row
    live.refresh_from_db()
    assert live.held_amount == 5_000


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"group": "bogus"}, "There is no group “bogus”: showing every unpaid order."),
        ({"sort": "account"}, "The panel cannot sort by “account”: sorted by urgency."),
        ({"page": "x"}, "“x” is not a page number: showing the first page."),
        ({"kind": "rental"}, "There is no kind “rental”: showing every kind."),
    ],
)
def test_an_unknown_filter_is_named_in_a_message_and_the_rest_still_apply(
    client, csr, query, notice
):
    repair = make_order(kind="repair")
    sale = make_order(kind="sale")
    client.force_login(csr)
    response = client.get(reverse("dashboard:index"), {**query, "q": repair.number})
    html = response.content.decode()
    assert response.status_code == 200
    assert notice in html
    assert repair.number in html and sale.number not in html  # the search still applies


def test_a_known_filter_gets_no_message(client, csr):
    make_order()
    client.force_login(csr)
    html = client.get(reverse("dashboard:index"), {"group": "not_authorized"}).content.decode()
    assert 'data-testid="filter-notice"' not in html


def test_the_readme_names_exactly_the_columns_that_sort():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "sort by any column" not in readme
    assert {key.lstrip("-") for key in SORTS} == {
        "urgency",
        "number",
        "total",
        "expiry",
        "delivery",
        "last_action",
    }
    assert "sort by order number, total, expiry, estimated delivery or last action" in readme


def test_recent_emails_label_their_times_in_the_business_zone(client, csr, settings):
    from orderdesk.links.services import link_send_reauthorization

    settings.TIME_ZONE = "America/New_York"
    link_send_reauthorization(order=make_order(), actor=csr)
    client.force_login(csr)
    html = client.get("/emails/").content.decode()
    assert " EST</time>" in html or " EDT</time>" in html
    assert "<title>Recent e-mails · orderdesk</title>" in html
    assert "Times are shown in America/New York." in html


def test_the_csv_export_shows_an_expired_hold_as_nothing_authorized(client, csr):
    import csv
    import io

    order = failed_after_expiry()
    client.force_login(csr)
    response = client.get(reverse("dashboard:unpaid-csv"), {"group": "failed"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    column = rows[0].index("Authorized")
    assert {row[0]: row[column] for row in rows[1:]}[order.number] == "USD 0.00"
