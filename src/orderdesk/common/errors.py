"""The one kind of error a business rule raises.

Every service refuses an action the same way: a reason shown to staff or to the API
client as it is, and the field it concerns when there is one. The API turns these into
JSON answers in one place (`api/errors.py`); the screens show the reason beside the field.
"""


class BusinessRuleError(Exception):
    """An action refused by a business rule; `reason` is shown as is."""

    # The HTTP status the API answers with: the request was well formed, but the order's
    # state does not allow it.
    http_status = 409

    def __init__(self, reason: str, *, field: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.field = field
