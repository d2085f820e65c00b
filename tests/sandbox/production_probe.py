"""Post a card number to every orderdesk URL under production settings; print what leaked.

Run in a process of its own (production settings are read at start-up), by
tests/sandbox/test_card_data.py: `python -m tests.sandbox.production_probe`, with
ORDERDESK_PRODUCTION=true and a gateway configuration in the environment. Prints one JSON
object: how many requests were tried, and every echo, acceptance, record or log line found.
"""

from __future__ import annotations

import json
import logging

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

CARD_FIELDS = ("number", "card_number", "cvc", "exp_month", "exp_year", "payment_token")


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def prepare() -> None:
    for alias in connections:
        call_command("migrate", database=alias, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # hashed names in production


def probe(number: str, cvc: str) -> dict:
    from orderdesk.payments.models import Authorization
    from orderdesk.sandbox.models import SandboxTransaction
    from tests.factories import make_order, make_staff
    from tests.sandbox.test_card_data import every_text_value, leaks
    from tests.sandbox.test_storefront_side import _concrete, _paths

    order, csr = make_order(), make_staff("csr")
    card = dict.fromkeys(CARD_FIELDS, number) | {"cvc": cvc, "exp_month": "12"}
    found = {"tried": 0, "echoed": [], "sandbox_answered": []}
    for who in ("anonymous", "csr"):
        client = Client()
        if who == "csr":
            client.force_login(csr)
        for route in sorted(set(_paths())):
            path = _concrete(route, order.number)
            if path.startswith("/static"):
                continue
            for answer in (
                client.post(path, data=card, secure=True),
                client.post(
                    path, data=json.dumps(card), content_type="application/json", secure=True
                ),
            ):
                found["tried"] += 1
                if (
                    number in answer.content.decode(errors="replace")
                    if hasattr(answer, "content")
                    else False
                ):
                    found["echoed"].append(path)
                if path.startswith("/sandbox") and answer.status_code < 400:
                    found["sandbox_answered"].append(path)
    found["authorizations"] = Authorization.objects.count()
    found["sandbox_transactions"] = SandboxTransaction.objects.count()
    found["stored"] = [value[:80] for value in every_text_value() if leaks(value)]
    return found


def main() -> None:
    from tests.factories import APPROVE_CARD
    from tests.sandbox.test_card_data import CVC, leaks

    prepare()
    collected = Collected()
    logging.getLogger().addHandler(collected)
    logging.getLogger().setLevel(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    for connection in connections.all():
        connection.force_debug_cursor = True  # every SQL statement logged, as with DEBUG
    found = probe(APPROVE_CARD, CVC)
    logged = "\n".join(collected.lines)
    found["sql_logged"] = "INSERT" in logged
    found["logged"] = leaks(logged)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
