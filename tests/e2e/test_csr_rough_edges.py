"""Rough edges a new CSR met in Chromium: the re-trigger confirmation, the price-increase lines."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orderdesk.links.models import PaymentLink
from orderdesk.notifications.models import OutboundEmail
from tests.factories import make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_keep_the_earlier_link_returns_to_the_order_and_sends_nothing(csr_page):
    order = make_order(total=5_000)
    csr_page.goto(f"/orders/{order.number}/")
    csr_page.get_by_role("button", name="Re-trigger cart").click()
    expect(csr_page.get_by_role("status").filter(has_text="e-mailed to")).to_be_visible()
    csr_page.get_by_role("button", name="Re-trigger cart").click()
    expect(csr_page.get_by_role("heading", name=re.compile("again?"))).to_be_visible()
    expect(csr_page.get_by_text("Sending again revokes the link in that e-mail.")).to_be_visible()
    csr_page.get_by_role("link", name="Keep the earlier link").click()
    csr_page.wait_for_url(re.compile(rf".*/orders/{order.number}/$"))
    expect(csr_page.get_by_role("heading", name=re.compile(order.number)).first).to_be_visible()
    assert PaymentLink.objects.filter(order=order).count() == 1
    assert OutboundEmail.objects.filter(order=order).count() == 1


def _rows(page):
    return page.locator(".links-lines tbody tr")


def test_price_increase_lines_are_added_and_removed_and_columns_stay_put(csr_page):
    order = make_order(total=0)
    csr_page.goto(f"/orders/{order.number}/links/price-increase/")
    expect(_rows(csr_page)).to_have_count(3)
    csr_page.get_by_role("button", name="Remove line 3").click()
    csr_page.get_by_role("button", name="Remove line 2").click()
    expect(_rows(csr_page)).to_have_count(1)
    expect(csr_page.get_by_role("button", name="Remove line 1")).to_be_disabled()
    csr_page.get_by_role("button", name="Add a line").click()
    csr_page.get_by_role("button", name="Add a line").click()
    expect(_rows(csr_page)).to_have_count(3)
    csr_page.get_by_label("Description, line 1").fill("Logic board repair")
    csr_page.get_by_label("Unit price, line 1").fill("240.00")
    csr_page.get_by_label("Description, line 2").fill("Cleaning")
    csr_page.get_by_label("Unit price, line 2").fill("15.00")
    csr_page.get_by_label("Description, line 3").fill("Battery")
    csr_page.get_by_label("Quantity, line 3").fill("2")
    csr_page.get_by_label("Unit price, line 3").fill("12.3.4")
    csr_page.get_by_role("button", name="Remove line 2").click()
    expect(csr_page.get_by_label("Description, line 2")).to_have_value("Battery")
    quantity = csr_page.get_by_role("columnheader", name="Quantity").bounding_box()
    assert csr_page.get_by_label("Quantity, line 1").bounding_box()["width"] > 50

    csr_page.get_by_role("button", name="Show new total").click()
    expect(
        csr_page.get_by_text("'12.3.4' is not a price: it has more than one decimal point.")
    ).to_be_visible()
    assert csr_page.get_by_role("columnheader", name="Quantity").bounding_box() == quantity
    assert not PaymentLink.objects.exists()

    expect(_rows(csr_page)).to_have_count(2)
    csr_page.get_by_label("Unit price, line 2").fill("49.50")
    csr_page.get_by_role("button", name="Show new total").click()
    expect(csr_page.get_by_test_id("new-total")).to_have_text("USD 339.00")
    csr_page.get_by_role("button", name="Send price increase to the customer").click()
    expect(csr_page.get_by_role("status").filter(has_text="USD 339.00")).to_be_visible()
    link = PaymentLink.objects.get(order=order)
    assert [line["description"] for line in link.proposed_lines] == [
        "Logic board repair",
        "Battery",
    ]
    assert link.proposed_lines[1]["quantity"] == 2
