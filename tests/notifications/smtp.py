"""A real SMTP server (aiosmtpd) for tests, and helpers to deliver the outbox to it."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


LINK_PATTERN = re.compile(r"https?://[^\s\"<>]+/pay/[A-Za-z0-9_-]+")


def link_in(message) -> str:
    """The Approve Order Payment link of a received e-mail."""
    return LINK_PATTERN.search(text_of(message)).group(0)


def deliver_emails() -> None:
    """Run the worker over the e-mail queue until it is empty (what `orderdesk worker` does)."""
    call_command(
        "db_worker",
        queue_name="email",
        batch=True,
        startup_delay=False,
        reload=False,
        verbosity=0,
    )


@pytest.fixture
def smtp_server(settings):
    """Django's SMTP backend pointed at a real aiosmtpd server on a free port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    mailbox.port = port
    yield mailbox
    controller.stop()
