"""The order screen's `<time>` elements: one conversion to the business zone per timestamp,
the same markup as the `date` filter written twice."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template

SHOWN = "M j, Y H:i T"

MOMENTS = [
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),  # before US clocks move forward
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # after
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # the autumn hour that happens twice
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 30, 123, tzinfo=UTC),  # a new year in UTC, not locally
    None,
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
def test_a_time_element_is_what_the_date_filter_writes(settings, moment, zone):
    settings.TIME_ZONE = zone
    previous = Template(
        '{% if at %}<time datetime="{{ at|date:\'c\' }}">{{ at|date:"' + SHOWN + '" }}</time>'
        "{% endif %}"
    )
    current = Template('{% load dashboard %}{{ at|time_element:"' + SHOWN + '" }}')
    context = Context({"at": moment})
    assert current.render(context) == previous.render(context)
    if moment is not None:
        assert current.render(context).startswith('<time datetime="')
