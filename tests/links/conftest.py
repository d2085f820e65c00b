import pytest

from tests.notifications.smtp import smtp_server  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def rate_limit_counters_cleared():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
