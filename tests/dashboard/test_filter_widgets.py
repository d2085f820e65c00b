"""The panel filter's widgets write exactly what Django's widget templates write."""

from __future__ import annotations

import copy

import pytest
from django import forms
from django.http import QueryDict

from orderdesk.dashboard.forms import PanelFilterForm


class StockPanelFilterForm(PanelFilterForm):
    """The same form with Django's own, template-rendered widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            stock = {
                "Select": forms.Select,
                "TextInput": forms.TextInput,
                "CheckboxInput": forms.CheckboxInput,
            }.get(type(field.widget).__name__)
            if stock is not None:  # the same widget (type, attributes, choices), Django's class
                field.widget = copy.copy(field.widget)
                field.widget.__class__ = stock


QUERIES = [
    "",
    "group=failed&kind=repair&q=B12&mine=on",
    "group=expiring&kind=sale",
    "group=bogus&kind=%3Cscript%3E&q=%22%3E%3Cb%3E%27%26&mine=yes",
    "q=" + "x" * 120,  # too long: the field is invalid and says so (aria-invalid)
    "mine=",
    "q=Zo%C3%AB+%26+Co",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("name", ["group", "kind", "q", "mine"])
def test_a_filter_widget_writes_the_html_of_djangos_template(query, name):
    ours, stock = PanelFilterForm(QueryDict(query)), StockPanelFilterForm(QueryDict(query))
    ours.is_valid(), stock.is_valid()
    assert type(ours.fields[name].widget) is not type(stock.fields[name].widget)
    assert str(ours[name]) == str(stock[name])
