"""The unpaid panel's periodic refresh in real Chromium: it waits for a CSR who is typing."""

import time

import pytest
from playwright.sync_api import expect

from orderdesk.dashboard import views
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_refresh_does_not_disturb_a_csr_typing_in_the_search_box(
    live_server, csr_page, monkeypatch
):
    monkeypatch.setattr(views, "REFRESH_SECONDS", 1)
    for _ in range(3):
        authorize(make_order(), DECLINE_CARD)
    page = csr_page
    refreshes = []
    page.on(
        "response",
        lambda response: (
            refreshes.append(response.status)
            if response.request.headers.get("hx-trigger") == "unpaid-panel"
            else None
        ),
    )
    page.goto(f"{live_server.url}/dashboard/")
    search = page.get_by_role("searchbox")
    search.click()
    for letter in "Customer":  # slower than the refresh period, for about 3 seconds
        page.keyboard.type(letter)
        time.sleep(0.2)
    expect(search).to_be_focused()
    expect(search).to_have_value("Customer")
    assert refreshes == []  # not one refresh while the CSR typed
    page.get_by_role("heading", name="Unpaid orders", exact=True).click()  # done typing
    page.wait_for_timeout(3000)
    assert refreshes, "the panel refreshes again once the CSR stops typing"
    assert set(refreshes) <= {200, 204}
    authorize(make_order(), DECLINE_CARD)
    page.wait_for_timeout(2500)
    expect(page.locator("#unpaid-panel-status")).to_contain_text("Unpaid orders updated at")
