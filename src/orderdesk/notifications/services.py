"""Queue e-mails in the caller's transaction and deliver them from the worker, exactly once.

`email_queue` renders the message, writes the outbox row and enqueues its delivery on the
caller's connection: if the change that caused the e-mail rolls back, so do both. The same
`dedupe_key` never queues a second e-mail. `email_send` holds the row lock while it talks to
the mail server, so two workers never send one row; a failure is retried with backoff by
re-enqueuing the task with `run_after`, and each delivery or failure goes on the order's
timeline.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context
from django.template.loader import get_template, render_to_string

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.outbox import rows_relay, task_wake
from orderdesk.common.retry import backoff
from orderdesk.notifications.models import EmailStatus, OutboundEmail
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind

logger = logging.getLogger("orderdesk.notifications")

MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 60
# A payment link's path in a message body: /pay/ and a token (orderdesk.links.tokens).
PAYMENT_LINK_TOKEN = re.compile(r"(/pay/)[A-Za-z0-9_-]{43}")
TOKEN_REMOVED = r"\1[removed-after-delivery]"


def business_context() -> dict:
    return {
        "business_name": settings.ORDERDESK_BUSINESS_NAME,
        "support_email": settings.ORDERDESK_SUPPORT_EMAIL,
        "support_phone": settings.ORDERDESK_SUPPORT_PHONE,
    }


def email_render(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) from notifications/email/<template>.{subject.txt,txt,html}."""
    context = {**business_context(), **context}
    base = f"notifications/email/{template}"
    subject = " ".join(_plain_text_render(f"{base}.subject.txt", context).split())
    return (
        subject,
        _plain_text_render(f"{base}.txt", context),
        render_to_string(f"{base}.html", context),
    )


def _plain_text_render(name: str, context: dict) -> str:
    """A plain-text part is not HTML: O'Brien stays O'Brien, not O&#x27;Brien."""
    template = get_template(name).template
    return template.render(Context(context, autoescape=False))


def email_queue(
    *, to: str, template: str, context: dict, dedupe_key: str, order=None
) -> OutboundEmail:
    """Write the e-mail to the outbox and enqueue its delivery, in the caller's transaction."""
    from orderdesk.notifications.tasks import email_deliver

    subject, text, html = email_render(template, context)
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                dedupe_key=dedupe_key,
                template=template,
                to=to,
                subject=subject[:200],
                body_text=text,
                body_html=html,
                order=order,
                created_at=now(),
            )
    except IntegrityError:
        return OutboundEmail.objects.get(dedupe_key=dedupe_key)
    email.task_id = task_wake(email_deliver, email_id=email.pk)
    OutboundEmail.objects.filter(pk=email.pk).update(task_id=email.task_id)
    return email


def emails_relay(*, limit: int = 500) -> int:
    """Wake every due e-mail whose delivery task is missing, failed or stale (the worker's
    schedule runs this): a worker killed while sending loses nothing. Returns how many."""
    from orderdesk.notifications.tasks import email_deliver

    moment = now()
    due = OutboundEmail.objects.filter(status=EmailStatus.PENDING).exclude(
        next_attempt_at__gt=moment
    )
    return rows_relay(
        due,
        email_deliver,
        argument="email_id",
        moment=moment,
        limit=limit,
        log=lambda row, task: logger.warning(
            "e-mail %s relayed: its task %s was lost", row, task or "(none)"
        ),
    )


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    # A stable Message-ID lets a mail server drop a duplicate if a crash ever makes us repeat.
    digest = hashlib.sha256(email.dedupe_key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "orderdesk.invalid"
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Message-ID": f"<{digest}@{domain}>"},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def _links_forget(email: OutboundEmail) -> list[str]:
    """Once nothing more will be sent, drop payment-link tokens from the stored copy (unless
    the outbox is where staff read e-mail); returns the fields it changed."""
    if settings.ORDERDESK_EMAIL_KEEP_LINKS:
        return []
    email.body_text = PAYMENT_LINK_TOKEN.sub(TOKEN_REMOVED, email.body_text)
    email.body_html = PAYMENT_LINK_TOKEN.sub(TOKEN_REMOVED, email.body_html)
    return ["body_text", "body_html"]


def retry_delay(attempt: int) -> timedelta:
    """1, 2, 4, 8 minutes after the 1st, 2nd, 3rd and 4th failure."""
    return backoff(attempt, first_seconds=FIRST_RETRY_SECONDS)


@transaction.atomic
def email_send(email_id: int) -> str:
    """Send one queued e-mail unless it was sent or given up already (safe to run twice)."""
    email = lock_one(OutboundEmail.objects, pk=email_id)
    if email.status != EmailStatus.PENDING:
        return email.status
    email.attempts += 1
    try:
        _message(email).send(fail_silently=False)
    except Exception as error:  # any transport error: SMTP, socket, TLS
        return _email_failure(email, error)
    email.status, email.sent_at, email.last_error, email.next_attempt_at = (
        EmailStatus.SENT,
        now(),
        "",
        None,
    )
    email.save(
        update_fields=[
            "status",
            "sent_at",
            "attempts",
            "last_error",
            "next_attempt_at",
            *_links_forget(email),
        ]
    )
    if email.order is not None:
        event_record(
            email.order,
            EventKind.EMAIL_DELIVERED,
            f"E-mail “{email.subject}” delivered to {email.to}",
            actor_label="mailer",
            details={"email": email.pk},
        )
    return email.status


def _email_failure(email: OutboundEmail, error: Exception) -> str:
    from orderdesk.notifications.tasks import email_deliver

    reason = f"{type(error).__name__}: {error}"[:500]
    logger.warning(
        "e-mail %s to %s failed (attempt %s): %s", email.pk, email.to, email.attempts, reason
    )
    email.last_error = reason
    forgotten: list[str] = []
    if email.attempts >= MAX_ATTEMPTS:
        email.status, email.next_attempt_at = EmailStatus.FAILED, None
        forgotten = _links_forget(email)
        text = f"E-mail “{email.subject}” to {email.to} failed {email.attempts} times; gave up: {reason}"
    else:
        email.next_attempt_at = now() + retry_delay(email.attempts)
        email.task_id = task_wake(email_deliver, run_after=email.next_attempt_at, email_id=email.pk)
        text = (
            f"E-mail “{email.subject}” to {email.to} failed (attempt {email.attempts} of "
            f"{MAX_ATTEMPTS}); retrying: {reason}"
        )
    email.save(
        update_fields=["status", "attempts", "last_error", "next_attempt_at", "task_id", *forgotten]
    )
    if email.order is not None:
        event_record(
            email.order,
            EventKind.EMAIL_FAILED,
            text,
            actor_label="mailer",
            details={"email": email.pk, "attempt": email.attempts},
        )
    return email.status
