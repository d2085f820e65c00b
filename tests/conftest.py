import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Staff are created in many tests; PBKDF2's deliberate slowness adds nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _shared_cache_emptied(request):
    """The rate limits and the dashboard's figures live in the database cache, whose table no test transaction rolls back
    in a transactional test: such tests start and end with it empty. (Other tests' counts
    vanish with their rolled-back transaction.)"""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    if not (transactional or {"transactional_db", "live_server"} & set(request.fixturenames)):
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _forced_faults_cleared():
    """A test that forced faults and stopped half-way leaves none to the next test."""
    yield
    from orderdesk.payments.gateways import sandbox

    with sandbox._forced_lock:
        sandbox._forced.clear()


@pytest.fixture
def csr(db):
    from tests.factories import make_staff

    return make_staff("csr")


@pytest.fixture
def supervisor(db):
    from tests.factories import make_staff

    return make_staff("supervisor")


DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def _with_the_ledger(item) -> None:
    """Every test that uses the database may reach the sandbox's ledger: its own connection
    (the `sandbox` alias), as a remote gateway is."""
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    if marker is None and not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return
    transaction, reset_sequences, databases, serialized, apps = (
        validate_django_db(marker) if marker else (False, False, None, False, None)
    )
    if databases == "__all__":
        return
    item.add_marker(
        pytest.mark.django_db(
            transaction=transaction,
            reset_sequences=reset_sequences,
            databases=sorted({"default", "sandbox", *(databases or ())}),
            serialized_rollback=serialized,
            available_apps=apps,
        ),
        append=False,
    )


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    for item in items:
        _with_the_ledger(item)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks and concurrent connections)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def replaced_message(db):
    """An `order.replaced` message as the price-increase flow queues it (CRM tests)."""
    from orderdesk.crm.services import crm_message_queue
    from orderdesk.orders.services import order_crm_settle
    from tests.factories import make_order

    old = make_order(total=10_000)
    new = make_order(total=14_500, account=old.account)
    # The CRM has heard of both orders already, so the message goes out on its own (an order
    # the CRM has not heard of sends its picture first: tests/contract/test_crm_sync.py).
    for order in (old, new):
        order_crm_settle(order_id=order.pk, version=order.crm_version)
    return crm_message_queue(
        topic="order.replaced",
        payload={
            "old_number": old.number,
            "new_number": new.number,
            "old_crm_id": "",
            "account_crm_id": "",
            "old_total": old.total,
            "new_total": new.total,
            "currency": new.currency,
        },
        dedupe_key=f"order.replaced:test-{old.number}",
        order=new,
    )
