"""Bench-only URLconf: the product's routes plus the baselines of target (c): a bare view,
and the floor view doing an approval's durable work in raw SQL (bench/approve_floor.py)."""

from django.http import HttpResponse
from django.urls import path

from bench.approve_floor import floor_view
from orderdesk import urls as product


def bare(request):
    return HttpResponse("ok")


urlpatterns = [
    path("bench/bare", bare),
    path("bench/floor/<str:token>", floor_view),
    *product.urlpatterns,
]

for _name in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(product, _name):
        globals()[_name] = getattr(product, _name)
