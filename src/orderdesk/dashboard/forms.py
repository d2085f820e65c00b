"""Forms of the dashboard: they parse what staff type; the services decide."""

from __future__ import annotations

from django import forms

from orderdesk.common.money import parse_major
from orderdesk.dashboard import widgets
from orderdesk.orders.models import CancelReason, OrderKind, OrderStatus
from orderdesk.unpaid.groups import GROUPS
from orderdesk.unpaid.rows import SORTS


class PanelFilterForm(forms.Form):
    # Its widgets write their HTML directly (dashboard.widgets): it is on every dashboard view.
    group = forms.ChoiceField(
        required=False,
        choices=[("", "All groups")] + [(g.key, g.label) for g in GROUPS],
        widget=widgets.Select,
    )
    kind = forms.ChoiceField(
        required=False, choices=[("", "All kinds"), *OrderKind.choices], widget=widgets.Select
    )
    mine = forms.BooleanField(required=False, label="Assigned to me", widget=widgets.CheckboxInput)
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=widgets.TextInput(
            attrs={"type": "search", "placeholder": "Order number, account or e-mail"}
        ),
    )
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    page = forms.IntegerField(required=False, min_value=1)

    NOTICES = {
        "group": "There is no group “{value}”: showing every unpaid order.",
        "kind": "There is no kind “{value}”: showing every kind.",
        "sort": "The panel cannot sort by “{value}”: sorted by urgency.",
        "page": "“{value}” is not a page number: showing the first page.",
        "q": "The search “{value}” cannot be used: showing every unpaid order.",
    }

    def filters(self) -> dict:
        """The panel's keyword arguments; each invalid one falls back to its default (and
        `notices` says so)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "group": data.get("group") or None,
            "kind": data.get("kind") or None,
            "mine": bool(data.get("mine")),
            "search": data.get("q") or "",
            "sort": data.get("sort") or "urgency",
        }

    def page_number(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("page") or 1

    def notices(self) -> list[str]:
        """One sentence for each filter that was not understood, saying what is shown instead."""
        self.is_valid()
        return [
            self.NOTICES.get(name, "The filter “{value}” was ignored.").format(
                value=str(self.data.get(name, "")).replace("\x00", "")[:60]
            )
            for name in self.errors
        ]


class ScreenForm(forms.Form):
    """A form of the order screen: ids carry the form's slug, since many forms share the page."""

    slug = "form"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.slug}_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AssignForm(ScreenForm):
    """Assign to me: nothing to type; the form carries the CSRF check and any errors."""

    slug = "assign"


class DeliveryDateForm(ScreenForm):
    slug = "date"

    estimated_delivery_date = forms.DateField(
        required=False,
        label="Estimated delivery date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to clear it.",
    )


class StatusForm(ScreenForm):
    slug = "status"

    to = forms.ChoiceField(
        label="Move to",
        choices=[
            (OrderStatus.OPEN, OrderStatus.OPEN.label),
            (OrderStatus.IN_PROGRESS, OrderStatus.IN_PROGRESS.label),
            (OrderStatus.READY_TO_SHIP, OrderStatus.READY_TO_SHIP.label),
        ],
    )


class NoteForm(ScreenForm):
    slug = "note"

    text = forms.CharField(
        label="Note", max_length=500, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500})
    )


class ManualCardForm(ScreenForm):
    """Only the gateway's token is posted: the card fields have no name attribute."""

    slug = "card"

    payment_token = forms.CharField(
        max_length=4000,
        widget=forms.HiddenInput,
        error_messages={
            "required": "The card was not sent to the gateway: fill in the card and try again "
            "(the card form needs JavaScript)."
        },
    )


class ExternalPaymentForm(ScreenForm):
    slug = "external"

    amount = forms.CharField(label="Amount", max_length=20, help_text="For example 1234.50")
    reference = forms.CharField(label="Reference", max_length=100)
    reason = forms.CharField(
        label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].label = f"Amount ({currency})"

    def clean_amount(self) -> int:
        try:
            amount = parse_major(self.cleaned_data["amount"], self.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error).capitalize() + ".") from error
        if amount <= 0:
            raise forms.ValidationError("The amount must be greater than zero.")
        return amount


class ShipForm(ScreenForm):
    slug = "ship"

    override_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Sent by the override form alone: shipping without secured payment needs its reason.
    override = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error(
                "override_reason", "Give the reason for shipping without secured payment."
            )
        return data


class CancelForm(ScreenForm):
    slug = "cancel"

    reason = forms.ChoiceField(
        label="Reason",
        choices=[(value, label) for value, label in CancelReason.choices if value != "replaced"],
    )
    note = forms.CharField(label="Note", required=False, max_length=300)
