class PaymentRuleError(Exception):
    """A payment action refused by a business rule; `reason` is shown to staff as is."""

    def __init__(self, reason: str, *, field: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.field = field


class AuthorizationInProgress(PaymentRuleError):
    """Another authorization of this order is pending or unknown: never authorize twice."""


class NothingToAuthorize(PaymentRuleError):
    """The order owes nothing, or is not live."""


class CaptureFailed(PaymentRuleError):
    """The gateway refused to capture."""
