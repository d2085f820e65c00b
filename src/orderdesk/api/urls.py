from django.urls import path

from orderdesk.api.api import api
from orderdesk.api.webhooks import gateway_webhook

urlpatterns = [
    path("webhooks/<str:gateway>", gateway_webhook, name="gateway-webhook"),
    path("", api.urls),
]
