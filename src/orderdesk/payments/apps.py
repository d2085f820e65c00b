from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "orderdesk.payments"
    label = "payments"

    def ready(self):
        from orderdesk.payments import checks  # noqa: F401 (registers the system check)
