from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from orderdesk.common.money import currency_exponent, format_minor, parse_major
from orderdesk.orders.services import LineInput


class CheckoutForm(forms.Form):
    """Only the gateway's token reaches orderdesk; the card fields have no names."""

    payment_token = forms.CharField(max_length=4000)

    def clean_payment_token(self):
        value = self.cleaned_data["payment_token"]
        if "\x00" in value:
            raise ValidationError("Invalid payment token.")
        return value


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Remove the invalid character.")


class LineForm(forms.Form):
    description = forms.CharField(max_length=300, required=False, validators=[_no_nul])
    quantity = forms.IntegerField(min_value=1, max_value=10_000, initial=1, required=False)
    unit_price = forms.CharField(
        max_length=20, required=False, label="Unit price", validators=[_no_nul]
    )

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self):
        data = super().clean()
        description = (data.get("description") or "").strip()
        price_text = (data.get("unit_price") or "").strip()
        if not description:
            if price_text:
                self.add_error("description", "Describe the line, or clear its price.")
            return data
        try:
            data["unit_price_minor"] = parse_major(price_text or "0", self.currency)
        except ValueError as error:
            self.add_error("unit_price", f"{price_text!r} is not a price: {error}.")
        data["quantity"] = data.get("quantity") or 1
        return data

    def line(self) -> LineInput | None:
        data = self.cleaned_data
        if not (data.get("description") or "").strip():
            return None
        return LineInput(
            description=data["description"].strip(),
            quantity=data["quantity"],
            unit_price=data["unit_price_minor"],
        )


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=30, absolute_max=30)


def price_text(amount: int, currency: str) -> str:
    """Minor units as the CSR types them: 14900 -> '149.00'."""
    return format_minor(amount, currency).split(" ", 1)[1].replace(",", "")


def initial_lines(order, extra: int = 2) -> list[dict]:
    rows = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": price_text(line.unit_price, order.currency),
        }
        for line in order.lines.all()
    ]
    return rows + [{"quantity": 1} for _ in range(extra)]


__all__ = ["CheckoutForm", "LineFormSet", "currency_exponent", "initial_lines"]
