from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def rate_limited(request, exception=None):
    """What django-ratelimit answers when a limit is past (settings.RATELIMIT_VIEW)."""
    from django.conf import settings
    from django.shortcuts import render

    wants_json = request.path.startswith(("/api/", "/sandbox/")) or "json" in request.headers.get(
        "Accept", ""
    )
    window = str(settings.ORDERDESK_RATE_WINDOW_SECONDS)
    if wants_json:
        response = JsonResponse(
            {"detail": [{"field": "", "reason": "Too many requests; try again later."}]},
            status=429,
        )
    else:
        response = render(request, "429.html", status=429)
    response["Retry-After"] = window
    return response
