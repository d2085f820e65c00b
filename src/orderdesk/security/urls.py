from django.urls import path

from orderdesk.security import views

app_name = "security"
urlpatterns = [
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock", views.unlock, name="unlock"),
    path("audit/", views.audit_screen, name="audit"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/revoke", views.api_key_revoke, name="api-key-revoke"),
    path("two-factor/", views.two_factor, name="two-factor"),
]
