"""The panel filter's widgets, written in Python with the markup of Django's own templates.

Django renders every widget through its form templates: a select of seven options is nine
templates (the select, an include per option, an include of the attributes for each), about
half a millisecond a field, two milliseconds of every dashboard view for four fields. These
write the same HTML as `django/forms/widgets/{input,select,select_option,attrs}.html`
(tests/dashboard/test_filter_widgets.py compares them with Django's).
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    return "".join(
        f" {conditional_escape(name)}"
        + ("" if value is True else f'="{conditional_escape(str(value))}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend(
            f'\n  <option value="{conditional_escape(str(option["value"]))}"'
            f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
            for option in options  # the option's template ends with a line break
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class DirectInputMixin:
    def _render(self, template_name, context, renderer=None):
        return mark_safe(_input(context["widget"]))  # noqa: S308 (every value escaped)


class TextInput(DirectInputMixin, forms.TextInput):
    pass


class CheckboxInput(DirectInputMixin, forms.CheckboxInput):
    pass


class Select(forms.Select):
    def _render(self, template_name, context, renderer=None):
        return mark_safe(_select(context["widget"]))  # noqa: S308 (every value escaped)
