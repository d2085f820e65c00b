from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "orderdesk.security"
    label = "security"
    verbose_name = "Log-in protection and audit"

    def ready(self):
        from orderdesk.security import receivers  # noqa: F401 (connects django-axes' signals)
