"""Settings of the benchmark's web server: orderdesk's own, with the URLconf swappable.

`approve_measure.server_start` starts gunicorn with DJANGO_SETTINGS_MODULE=bench.settings
and ORDERDESK_BENCH_URLCONF=bench.urls, so that the floor and bare views of target (c) are
served next to the product's routes by the same server; the product's URLconf never has them.
"""

import os

from orderdesk.settings import *  # noqa: F403
from orderdesk.settings import ROOT_URLCONF as _PRODUCT_URLCONF

ROOT_URLCONF = os.environ.get("ORDERDESK_BENCH_URLCONF", _PRODUCT_URLCONF)
