"""Every error is JSON `{"detail": [{"field": ..., "reason": ...}]}` with a fitting status."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from orderdesk.api.schemas import NO_NUL_PATTERN
from orderdesk.api.services import IdempotencyConflict
from orderdesk.common.errors import BusinessRuleError

WHERE = {"body", "query", "path", "header", "cookie", "form", "file", "payload"}


def detail(reason: str, field: str = "") -> dict:
    return {"detail": [{"field": field, "reason": reason}]}


def _field(location) -> str:
    parts = [str(part) for part in location if str(part) not in WHERE]
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    # One handler per exception kind, all in one place so that every error of the API has
    # the same JSON shape; longer than 40 lines because it is a table, not logic.
    def respond(request, body, status):
        return api.create_response(request, body, status=status)

    @api.exception_handler(ValidationError)
    def validation(request, error: ValidationError):
        items = [
            {"field": _field(item.get("loc", ())), "reason": _reason(item)} for item in error.errors
        ]
        return respond(
            request, {"detail": items or [{"field": "", "reason": "invalid input"}]}, 422
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, error):
        response = respond(
            request, detail("Send a valid API key as 'Authorization: Bearer <key>'."), 401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request, error: HttpError):
        return respond(request, detail(str(error)), error.status_code)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, error):
        return respond(request, detail(str(error) or "Not allowed."), 403)

    @api.exception_handler(Http404)
    def not_found(request, error):
        return respond(request, detail("Not found."), 404)

    @api.exception_handler(ObjectDoesNotExist)
    def missing(request, error):
        return respond(request, detail("Not found."), 404)

    @api.exception_handler(BusinessRuleError)
    def rule(request, error: BusinessRuleError):
        return respond(request, detail(error.reason, error.field), error.http_status)

    @api.exception_handler(IdempotencyConflict)
    def idempotency(request, error: IdempotencyConflict):
        return respond(request, detail(error.reason, "Idempotency-Key"), error.status)


def _reason(item: dict) -> str:
    if (item.get("ctx") or {}).get("pattern") == NO_NUL_PATTERN:
        return "must not contain NUL (\\x00) characters"
    message = str(item.get("msg", "invalid"))
    return message.removeprefix("Value error, ")
