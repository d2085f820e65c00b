from django.urls import path

from orderdesk.security import views

app_name = "security"
urlpatterns = [
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock", views.unlock, name="unlock"),
    path("audit/", views.audit_screen, name="audit"),
    path("two-factor/", views.two_factor, name="two-factor"),
]
