"""The CSR dashboard in real Chromium: find every unpaid group, work an order, ship through the gate."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.unpaid.groups import GROUPS
from tests.dashboard.scenario import scenario_build

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_order(page, live_server, order):
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.get_by_role("heading", name=f"Order {order.number}", exact=True)).to_be_visible()


def enter_card(page, number: str):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill(str(date.today().year + 3))
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Authorize card").click()


def test_a_csr_finds_every_unpaid_group_and_works_orders(csr, live_server, csr_page, screenshot):
    scenario = scenario_build(csr=csr)
    page = csr_page
    page.goto(f"{live_server.url}/dashboard/")
    panel = page.locator("#unpaid-panel")
    for group in GROUPS:
        expected = scenario.panel_numbers[group.key]
        tab = panel.get_by_role("link", name=re.compile(rf"^{group.label} \d+$"))
        expect(tab).to_contain_text(str(len(expected)))
        rows = panel.locator(f'tr[data-group="{group.key}"] th[scope=row] a')
        expect(rows).to_have_count(len(expected))
        assert set(rows.all_inner_texts()) == expected
    expect(panel.get_by_role("link", name=scenario.secured.number)).to_have_count(0)
    expect(page.get_by_role("heading", name="Work in progress")).to_be_visible()
    expect(page.get_by_role("img", name="Unpaid orders by days to expiry")).to_be_visible()
    screenshot(page, "dashboard-csr")

    # The filters narrow the panel in place (htmx) and the address keeps them.
    page.get_by_label("Group", exact=True).select_option("failed")
    expect(panel.locator("tbody tr[data-group]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"group=failed"))

    # Open the failed order from the panel and set its estimated delivery date.
    panel.get_by_role("link", name=scenario.failed.number).click()
    expect(page.get_by_role("heading", name="Order Details")).to_be_visible()
    target = date.today() + timedelta(days=12)
    page.get_by_label("Estimated delivery date", exact=True).fill(target.isoformat())
    page.get_by_role("button", name="Save date").click()
    expect(page.locator(".messages")).to_contain_text("Estimated delivery date set to")
    scenario.failed.refresh_from_db()
    assert scenario.failed.estimated_delivery_date == target

    # A declined card, then an approved one, through the virtual terminal.
    enter_card(page, "4000 0000 0000 0002")
    expect(page.locator(".messages")).to_contain_text("Card declined")
    scenario.failed.refresh_from_db()
    assert scenario.failed.payment_state == PaymentState.FAILED
    enter_card(page, "4242 4242 4242 4242")
    expect(page.locator(".messages")).to_contain_text(
        "Card approved: USD 125.00 authorized on Visa •••• 4242"
    )
    expect(page.locator(".order-badges")).to_contain_text("Authorized")
    screenshot(page, "order-screen-csr")

    # That order is now secured: shipping captures.
    page.get_by_role("button", name="Ship order").click()
    expect(page.locator(".messages")).to_contain_text(f"Order {scenario.failed.number} shipped")
    scenario.failed.refresh_from_db()
    assert (scenario.failed.status, scenario.failed.payment_state) == ("shipped", "paid")

    # The gate refuses the expired one and says why; a CSR gets no override.
    open_order(page, live_server, scenario.expired)
    page.get_by_role("button", name="Ship order").click()
    expect(page.locator(".messages")).to_contain_text(
        "Payment is not secured: the authorization has expired"
    )
    expect(page.get_by_role("heading", name="Override the ship gate")).to_have_count(0)
    scenario.expired.refresh_from_db()
    assert scenario.expired.status == OrderStatus.READY_TO_SHIP
    screenshot(page, "order-screen-ship-refused")


def test_a_supervisor_overrides_the_gate_on_an_expired_order(
    csr, live_server, supervisor_page, screenshot
):
    scenario = scenario_build(csr=csr)
    page = supervisor_page
    page.goto(f"{live_server.url}/dashboard/?group=expired")
    expect(page.locator("#unpaid-panel")).to_contain_text(scenario.expired.number)
    open_order(page, live_server, scenario.expired)
    page.get_by_role("button", name="Ship order").click()
    expect(page.locator(".messages")).to_contain_text("the authorization has expired")
    page.get_by_label("Override reason").fill("Customer paid cash at pick-up")
    screenshot(page, "order-screen-supervisor-override")
    page.get_by_role("button", name="Ship without secured payment").click()
    expect(page.locator(".messages")).to_contain_text("shipped with the ship gate overridden")
    expect(page.locator(".timeline")).to_contain_text("Customer paid cash at pick-up")
    scenario.expired.refresh_from_db()
    assert scenario.expired.status == OrderStatus.SHIPPED


def test_the_dashboard_reads_on_a_tablet(csr, live_server, csr_page, screenshot):
    scenario_build(csr=csr)
    page = csr_page
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#unpaid-panel")).to_be_visible()
    screenshot(page, "dashboard-tablet")
