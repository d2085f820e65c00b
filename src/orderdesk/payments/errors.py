from orderdesk.common.errors import BusinessRuleError


class AuthorizationInProgress(BusinessRuleError):
    """Another authorization of this order is pending or unknown: never authorize twice."""


class NothingToAuthorize(BusinessRuleError):
    """The order owes nothing, or is not live."""


class CaptureFailed(BusinessRuleError):
    """The gateway refused to capture."""
