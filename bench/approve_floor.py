"""Target (c)'s floor: the durable work of one approval, in raw SQL.

`durable_work_recorded` records what a request sends to the databases: each statement, on
which connection (`default` is orderdesk's, `sandbox` the gateway's ledger), and each
commit (an explicit one at the end of a transaction, or the implicit one of a statement
sent in autocommit mode). `floor_view` does the same durable work as POST /pay/<token> on
an open reauthorization link of an order nothing was authorized on: the same statements on
the same tables and rows, and the same commits, through the DB-API cursor (Django's thin
cursor wrapper), with no model, form, template or ORM query compiling. `floor_matches`
compares the two; the bench and a test fail when they differ.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connections

ALIASES = ("default", "sandbox")
# Transaction control is counted as commits, not statements.
CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@dataclass
class Recorded:
    statements: dict[str, list[str]] = field(default_factory=lambda: {a: [] for a in ALIASES})
    commits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALIASES, 0))
    # The order of it all: (alias, statement or "COMMIT"), a statement in autocommit mode
    # followed by its own "COMMIT".
    sequence: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            alias: {"statements": len(self.statements[alias]), "commits": self.commits[alias]}
            for alias in ALIASES
        }

    def tables(self, alias: str) -> list[tuple[str, str]]:
        """(verb, table) of each statement, in order: what was touched, not how."""
        return [statement_shape(sql) for sql in self.statements[alias]]


def statement_shape(sql: str) -> tuple[str, str]:
    words = sql.replace('"', " ").replace("(", " ").split()
    verb = words[0].upper()
    after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}
    keyword = after.get(verb)
    upper = [word.upper() for word in words]
    if keyword and keyword in upper:
        return verb, words[upper.index(keyword) + 1].lower()
    return verb, ""


@contextlib.contextmanager
def durable_work_recorded():
    """Record statements and commits on both connections (this thread's)."""
    recorded = Recorded()
    with contextlib.ExitStack() as stack:
        for alias in ALIASES:
            connection = connections[alias]
            stack.enter_context(connection.execute_wrapper(_statement_hook(recorded, alias)))
            stack.enter_context(_commits_counted(connection, recorded, alias))
        yield recorded


def _statement_hook(recorded: Recorded, alias: str):
    def hook(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(CONTROL):
            recorded.statements[alias].append(sql)
            recorded.sequence.append((alias, sql))
            if context["connection"].get_autocommit():
                recorded.commits[alias] += 1  # a statement on its own commits itself
                recorded.sequence.append((alias, "COMMIT"))
        return execute(sql, params, many, context)

    return hook


@contextlib.contextmanager
def _commits_counted(connection, recorded: Recorded, alias: str):
    original = connection._commit

    def counted():
        recorded.commits[alias] += 1
        recorded.sequence.append((alias, "COMMIT"))
        return original()

    connection._commit = counted
    try:
        yield
    finally:
        del connection._commit


# -- the floor view -------------------------------------------------------------------------
#
# POST /bench/floor/<token>: the statements of a real approval, in the same order, on the
# same tables and rows (its own link, order and authorization), committed at the same
# points. What it leaves out is everything that is not the databases' work: models, forms,
# ORM compiling, the state machines' checks, the sandbox's token signature and templates.


def _now():
    from orderdesk.common.clock import now

    return now()


def _at(connection, moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _for_update(connection) -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _run(cursor, sql: str, params=None) -> list | None:
    """Execute and read every row, as the application does: an unread SELECT would keep
    SQLite's read snapshot open, and a later write from it fails at once as busy."""
    cursor.execute(sql, params)
    return cursor.fetchall() if cursor.description is not None else None


def _counter_bump(connection, key: str, window_seconds: int = 600) -> None:
    """The rate limit's counter in the database cache, as django-ratelimit and orderdesk's
    database cache write it: read the key; when it is missing, add it as Django's database
    cache adds (the cull check, then the insert); when it is there, read and write it in
    one transaction holding the row."""
    from django.db import IntegrityError, transaction

    moment = _now()
    expires = _at(connection, moment + timedelta(seconds=window_seconds))
    with connection.cursor() as cursor:
        found = _run(
            cursor, 'SELECT "expires" FROM "orderdesk_cache" WHERE "cache_key" = %s', [key]
        )
        if not found:
            _run(cursor, 'SELECT COUNT(*) FROM "orderdesk_cache"')  # the cache's cull check
            try:
                with transaction.atomic(using=connection.alias):
                    _run(
                        cursor,
                        'SELECT "cache_key", "expires" FROM "orderdesk_cache" '
                        'WHERE "cache_key" = %s',
                        [key],
                    )
                    _run(
                        cursor,
                        'INSERT INTO "orderdesk_cache" ("cache_key", "value", "expires") '
                        "VALUES (%s, %s, %s)",
                        [key, "1", expires],
                    )
            except IntegrityError:
                pass
            return
        # orderdesk.common.cache: the increment holds the row (PostgreSQL) in one transaction.
        lock = _for_update(connection)
        with transaction.atomic(using=connection.alias):
            rows = _run(
                cursor,
                'SELECT "value", "expires" FROM "orderdesk_cache" WHERE "cache_key" = %s' + lock,
                [key],
            )
            count = int(rows[0][0]) + 1 if rows else 1
            _run(
                cursor,
                'UPDATE "orderdesk_cache" SET "value" = %s WHERE "cache_key" = %s',
                [str(count), key],
            )


LINK_READ = (
    'SELECT l."id", l."order_id", l."amount", l."currency", l."status", l."expires_at", '
    'o."number" FROM "links_paymentlink" l INNER JOIN "orders_order" o ON l."order_id" = o."id" '
    'WHERE l."token_hash" = %s'
)
CLAIM = (
    'UPDATE "links_paymentlink" SET "processing_since" = %s WHERE "expires_at" > %s AND "id" = %s '
    'AND "status" = %s AND ("processing_since" IS NULL OR "processing_since" < %s)'
)
EVENT = (
    'INSERT INTO "orders_orderevent" ("order_id", "kind", "message", "details", "actor_id", '
    '"actor_label", "created_at") VALUES (%s, %s, %s, %s, NULL, %s, %s) RETURNING "id"'
)


def floor_view(request, token: str):
    """The durable work of POST /pay/<token> (see the module's notes)."""
    import hashlib

    from django.db import connections
    from django.http import HttpResponseNotFound, HttpResponseRedirect

    default = connections["default"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    address = request.META.get("REMOTE_ADDR", "")
    _counter_bump(default, f":1:rl:floor:address:{address}")
    _counter_bump(default, f":1:rl:floor:token:{digest[:32]}")
    with default.cursor() as cursor:
        links = _run(cursor, LINK_READ, [digest])
        if not links:
            return HttpResponseNotFound("no such link")
        link_id, order_id, amount, currency = links[0][:4]
        moment = _now()
        _run(cursor,
            CLAIM,
            [_at(default, moment), _at(default, moment), link_id, "open",
             _at(default, moment - timedelta(minutes=2))],
        )  # fmt: skip
    authorization_id, key = _pending_record(default, order_id, amount, currency)
    reference = _ledger_record(amount, currency, key)
    _answer_record(default, order_id, link_id, authorization_id, amount, reference)
    return HttpResponseRedirect(f"/pay/{token}/done")


def _pending_record(connection, order_id: int, amount: int, currency: str):
    """The pending authorization with its idempotency key and its timeline row, committed."""
    import uuid

    from django.db import transaction

    key = f"auth-{uuid.uuid4()}"
    moment = _at(connection, _now())
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _run(
            cursor,
            'SELECT "id", "status", "payment_method", "total", "number", "currency" '
            'FROM "orders_order" WHERE "id" = %s' + _for_update(connection),
            [order_id],
        )
        _run(
            cursor,
            'SELECT 1 FROM "payments_authorization" WHERE "order_id" = %s '
            'AND "status" IN (%s, %s) LIMIT 1',
            [order_id, "pending", "unknown"],
        )
        authorization_id = _run(cursor,
            'INSERT INTO "payments_authorization" ("order_id", "gateway", "method", '
            '"gateway_reference", "amount", "currency", "status", "card_brand", "card_last4", '
            '"payer_email", "decline_code", "message", "idempotency_key", "instrument_reference", '
            '"source", "created_at", "updated_at") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '
            '%s, %s, %s, %s, %s, %s, %s, %s) RETURNING "id"',
            [order_id, "sandbox", "card", "", amount, currency, "pending", "", "", "", "", "",
             key, "", "customer_link", moment, moment],
        )[0][0]  # fmt: skip
        text = "Authorization of the link's amount requested"
        details = f'{{"authorization": {authorization_id}, "source": "customer_link"}}'
        _run(cursor, EVENT, [order_id, "authorization_requested", text, details, "system", moment])
        _run(
            cursor,
            'UPDATE "orders_order" SET "last_action" = %s, "last_action_at" = %s WHERE "id" = %s',
            [text, moment, order_id],
        )
    return authorization_id, key


def _ledger_record(amount: int, currency: str, key: str) -> str:
    """The gateway's own record, on its own connection, committed on its own."""
    import secrets

    from django.db import connections

    ledger = connections["sandbox"]
    reference = f"auth_{secrets.token_hex(10)}"
    with ledger.cursor() as cursor:
        _run(cursor,
            'INSERT INTO "sandbox_sandboxtransaction" ("reference", "kind", "idempotency_key", '
            '"parent_reference", "amount", "currency", "status", "card_brand", "card_last4", '
            '"payer_email", "decline_code", "return_url", "created_at") VALUES (%s, %s, %s, %s, '
            '%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING "id"',
            [reference, "authorization", key, "", amount, currency, "authorized", "Visa", "4242",
             "", "", "", _at(ledger, _now())],
        )  # fmt: skip
    return reference


def _answer_record(connection, order_id, link_id, authorization_id, amount, reference) -> None:
    """The answer, the link, two timeline rows and the payment state (with the CRM version
    bump) in one transaction, the order and then the link locked."""
    from django.db import transaction

    moment = _now()
    at, expires = _at(connection, moment), _at(connection, moment + timedelta(days=29))
    lock = _for_update(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _run(
            cursor,
            'SELECT a."id", a."status", o."id", o."status" FROM "payments_authorization" a '
            'INNER JOIN "orders_order" o ON a."order_id" = o."id" WHERE a."id" = %s' + lock,
            [authorization_id],
        )
        _run(cursor,
            'UPDATE "payments_authorization" SET "gateway_reference" = %s, "status" = %s, '
            '"authorized_at" = %s, "expires_at" = %s, "card_brand" = %s, "card_last4" = %s, '
            '"payer_email" = %s, "decline_code" = %s, "message" = %s, "updated_at" = %s '
            'WHERE "id" = %s',
            [reference, "authorized", at, expires, "Visa", "4242", "", "", "", at,
             authorization_id],
        )  # fmt: skip
        details = f'{{"authorization": {authorization_id}}}'
        text = "Authorized on Visa 4242"
        _run(cursor, EVENT, [order_id, "authorization_made", text, details, "system", at])
        _run(
            cursor,
            'SELECT "id", "status", "processing_since", "failed_attempts", "completed_at", '
            '"result_order_id" FROM "links_paymentlink" WHERE "id" = %s' + lock,
            [link_id],
        )
        _run(cursor, PAYMENT_RECORDS, [order_id])
        _run(
            cursor,
            'UPDATE "links_paymentlink" SET "status" = %s, "processing_since" = NULL, '
            '"result_order_id" = %s, "completed_at" = %s WHERE "id" = %s AND "status" = %s',
            ["completed", order_id, at, link_id, "open"],
        )
        text = "Customer approved payment with Visa 4242"
        _run(cursor, EVENT, [order_id, "approved", text, f'{{"link": {link_id}}}', "customer", at])
        _run(cursor,
            'UPDATE "orders_order" SET "payment_state" = %s, "payment_expires_at" = %s, '
            '"authorized_amount" = %s, "last_action" = %s, "last_action_at" = %s, '
            '"customer_link_open" = %s, "price_declined_at" = NULL, "crm_version" = (CASE WHEN '
            '"payment_state" = %s AND "authorized_amount" = %s AND "payment_expires_at" = %s '
            'THEN "crm_version" ELSE "crm_version" + 1 END) WHERE "id" = %s',
            ["authorized", expires, amount, text, at, False, "authorized", amount, expires,
             order_id],
        )  # fmt: skip


PAYMENT_RECORDS = (
    'SELECT a."id", a."status", a."amount", a."expires_at", a."created_at", a."decline_code", '
    'COALESCE((SELECT SUM(c."amount") FROM "payments_capture" c INNER JOIN '
    '"payments_authorization" ca ON c."authorization_id" = ca."id" WHERE ca."order_id" = o."id"), '
    '0), COALESCE((SELECT SUM(e."amount") FROM "payments_externalpayment" e '
    'WHERE e."order_id" = o."id"), 0), o."customer_link_open", o."price_declined_at" '
    'FROM "orders_order" o LEFT OUTER JOIN "payments_authorization" a ON a."order_id" = o."id" '
    'WHERE o."id" = %s'
)


def approval_and_floor_recorded(approve_token: str, floor_token: str, card: str):
    """One real approval and one floor request, through Django's test client in this
    process (so on this thread's connections): (approval's record, floor's record)."""
    from django.test import Client, override_settings

    client = Client()
    with override_settings(ROOT_URLCONF="bench.urls"):
        with durable_work_recorded() as approval:
            answer = client.post(f"/pay/{approve_token}", {"payment_token": card})
        if answer.status_code != 302 or not answer["Location"].endswith("/done"):
            raise RuntimeError(f"the approval answered {answer.status_code}")
        with durable_work_recorded() as floor:
            answer = client.post(f"/bench/floor/{floor_token}", {"payment_token": card})
        if answer.status_code != 302:
            raise RuntimeError(f"the floor answered {answer.status_code}")
    return approval, floor


def floor_differences(approval: Recorded, floor: Recorded) -> list[str]:
    """What the floor does differently from the approval: counts, tables, commit points."""
    differences = []
    if approval.counts() != floor.counts():
        differences.append(f"counts: approval {approval.counts()}, floor {floor.counts()}")
    for alias in ALIASES:
        if approval.tables(alias) != floor.tables(alias):
            differences.append(
                f"{alias} statements: approval {approval.tables(alias)}, "
                f"floor {floor.tables(alias)}"
            )
    if _commit_points(approval) != _commit_points(floor):
        differences.append("the commits fall at other points")
    return differences


def _commit_points(recorded: Recorded) -> list[tuple[str, int]]:
    points, seen = [], dict.fromkeys(ALIASES, 0)
    for alias, sql in recorded.sequence:
        if sql == "COMMIT":
            points.append((alias, seen[alias]))
        else:
            seen[alias] += 1
    return points
