"""Counts and moments as staff read them."""

from datetime import datetime, timedelta, timezone

import pytest

from orderdesk.common.templatetags.display import ago, count

AT = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("seconds", "reads"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (150, "2 minutes ago"),
        (3 * 3600 + 5, "3 hours ago"),
        (2 * 86400, "2 days ago"),
    ],
)
def test_a_moment_reads_just_now_under_a_minute_then_in_whole_units(seconds, reads):
    assert ago(AT - timedelta(seconds=seconds), AT) == reads


@pytest.mark.parametrize(("value", "reads"), [(0, "0"), (999, "999"), (52000, "52,000")])
def test_counts_have_thousands_separators(value, reads):
    assert count(value) == reads
