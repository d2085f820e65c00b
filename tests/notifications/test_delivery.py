"""The e-mail outbox: written with the change, delivered over real SMTP once, retried with backoff."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from orderdesk.common.clock import now
from orderdesk.config.mail import email_url_parse
from orderdesk.links.services import link_send_reauthorization
from orderdesk.notifications.models import EmailStatus, OutboundEmail
from orderdesk.notifications.services import MAX_ATTEMPTS, email_queue, email_send
from orderdesk.orders.models import EventKind
from tests.factories import make_order
from tests.notifications.smtp import deliver_emails, free_port, html_of, link_in, text_of

pytestmark = pytest.mark.django_db
# The worker (db_worker) manages its own connection and transactions, as in production.
worker_db = pytest.mark.django_db(transaction=True)


def queue(order, key="event-1"):
    return email_queue(
        to="ann@shop.test",
        template="reauthorization",
        context={
            "account_name": "Ann",
            "reason": "Because.",
            "order_number": order.number,
            "current_lines": [],
            "amount": 100,
            "currency": "USD",
            "link_url": "https://pay.example/pay/" + "t" * 43,
            "link_expires_on": now().date(),
        },
        dedupe_key=key,
        order=order,
    )


def test_the_email_is_written_in_the_transaction_of_the_change(csr):
    order = make_order()
    with pytest.raises(RuntimeError), transaction.atomic():
        link_send_reauthorization(order=order, actor=csr)
        raise RuntimeError("the change failed")
    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.filter(queue_name="email").exists()


def test_one_event_queues_one_email(db):
    order = make_order()
    first, second = queue(order), queue(order)
    assert first.pk == second.pk
    assert DBTaskResult.objects.filter(queue_name="email").count() == 1


@worker_db
def test_worker_delivers_over_smtp_with_text_and_html(csr, smtp_server):
    order = make_order(account=None)
    sent = link_send_reauthorization(order=order, actor=csr)
    deliver_emails()
    [message] = smtp_server.to(order.account.ecommerce_email)
    assert message["From"] == "orders@example.com"
    assert "Fixwell Repairs" in message["Subject"]
    assert link_in(message) == sent.url
    assert "Approve Order Payment" in html_of(message) and sent.url in html_of(message)
    assert order.number in text_of(message)
    email = OutboundEmail.objects.get()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)
    assert order.events.filter(kind=EventKind.EMAIL_DELIVERED).count() == 1


@worker_db
def test_a_delivered_email_keeps_no_working_payment_link(csr, smtp_server, settings):
    """Links are stored hashed: once sent to a real mailbox, the outbox copy drops the token."""
    settings.ORDERDESK_EMAIL_KEEP_LINKS = False
    order = make_order(account=None)
    sent = link_send_reauthorization(order=order, actor=csr)
    token = sent.url.rsplit("/", 1)[1]
    deliver_emails()
    [message] = smtp_server.to(order.account.ecommerce_email)
    assert link_in(message) == sent.url  # the customer's copy has the link
    email = OutboundEmail.objects.get()
    assert email.status == EmailStatus.SENT
    assert token not in email.body_text and token not in email.body_html
    assert "/pay/[removed-after-delivery]" in email.body_text


@worker_db
def test_the_embedded_outbox_keeps_the_link_to_click(csr, smtp_server, settings):
    settings.ORDERDESK_EMAIL_KEEP_LINKS = True
    order = make_order(account=None)
    sent = link_send_reauthorization(order=order, actor=csr)
    deliver_emails()
    assert sent.url in OutboundEmail.objects.get().body_text


@worker_db
def test_running_the_task_twice_sends_once(db, smtp_server):
    email = queue(make_order())
    assert email_send(email.pk) == EmailStatus.SENT
    assert email_send(email.pk) == EmailStatus.SENT
    deliver_emails()
    assert len(smtp_server.messages) == 1


@worker_db
def test_failure_is_retried_with_backoff_then_delivered(db, smtp_server, settings):
    order = make_order()
    email = queue(order)
    settings.EMAIL_PORT = free_port()  # nothing listens there
    deliver_emails()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 1)
    assert email.next_attempt_at > now() + timedelta(seconds=50)
    retry = DBTaskResult.objects.filter(queue_name="email", status="READY").get()
    assert retry.run_after == email.next_attempt_at
    assert order.events.filter(kind=EventKind.EMAIL_FAILED).count() == 1
    deliver_emails()  # too early: the retry waits for its time
    assert smtp_server.messages == []
    settings.EMAIL_PORT = smtp_server.port
    with time_machine.travel(email.next_attempt_at + timedelta(seconds=1)):
        deliver_emails()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert len(smtp_server.messages) == 1
    assert order.events.filter(kind=EventKind.EMAIL_DELIVERED).count() == 1


def test_gives_up_after_the_last_attempt(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.ORDERDESK_EMAIL_KEEP_LINKS = False
    order = make_order()
    email = queue(order)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        email_send(email.pk)
        email.refresh_from_db()
        # The token stays while a retry still needs it, and goes once the outbox gives up.
        assert ("/pay/" + "t" * 43 in email.body_text) == (attempt < MAX_ATTEMPTS)
    assert (email.status, email.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert "gave up" in order.events.filter(kind=EventKind.EMAIL_FAILED).first().message
    assert email_send(email.pk) == EmailStatus.FAILED  # no further attempt


def test_recent_emails_page_is_for_staff_with_permission(client, csr, db):
    from django.contrib.auth import get_user_model

    email = queue(make_order())
    assert client.get("/emails/")["Location"].startswith("/login/")
    plain = get_user_model().objects.create_user("plain", password="x-y-z-secret", is_staff=True)
    client.force_login(plain)
    assert client.get("/emails/").status_code == 403
    client.force_login(csr)
    listing = client.get("/emails/").content.decode()
    assert email.subject in listing
    detail = client.get(f"/emails/{email.pk}/").content.decode()
    assert 'href="https://pay.example/pay/' in detail  # the link is clickable


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://user:p%40ss@mail.example.com:587",
            ("mail.example.com", 587, "user", "p@ss", False, False),
        ),
        ("smtp+tls://u:p@mail.example.com:587", ("mail.example.com", 587, "u", "p", True, False)),
        ("smtp+ssl://u:p@mail.example.com:465", ("mail.example.com", 465, "u", "p", False, True)),
    ],
)
def test_email_url_configures_smtp(url, expected):
    parsed = email_url_parse(url)
    assert parsed["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    got = tuple(
        parsed[key]
        for key in (
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
        )
    )
    assert got == expected


def test_email_url_console_is_the_embedded_default():
    assert email_url_parse("console:")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert email_url_parse("file:///srv/mail")["EMAIL_FILE_PATH"] == "/srv/mail"
