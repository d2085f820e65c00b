"""Bench-only URLconf: the product's routes plus a bare view, the baseline of target (c)."""

from django.http import HttpResponse
from django.urls import path

from orderdesk import urls as product


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare", bare), *product.urlpatterns]

for _name in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(product, _name):
        globals()[_name] = getattr(product, _name)
