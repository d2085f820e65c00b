from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django_ratelimit.decorators import ratelimit

from orderdesk.api.metrics import metrics
from orderdesk.common.ratelimit import address_key, login_rate
from orderdesk.common.views import healthz
from orderdesk.links.urls import staff_urlpatterns as link_staff_urlpatterns
from orderdesk.security.login import StaffLoginView

# Log-in posts per address are limited over the shared cache; django-axes locks out by user
# name and by address on top (settings.AXES_*).
login_view = ratelimit(group="login", key=address_key, rate=login_rate, method="POST")(
    StaffLoginView.as_view()
)

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("login/", login_view, name="login"),
    path("security/", include("orderdesk.security.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("sandbox/", include("orderdesk.sandbox.urls")),
    path("pay/", include("orderdesk.links.urls")),
    path("api/", include("orderdesk.api.urls")),
    path("orders/<str:number>/links/", include(link_staff_urlpatterns)),
    path("", include("orderdesk.dashboard.urls")),
    path("", include("orderdesk.notifications.urls")),
]
