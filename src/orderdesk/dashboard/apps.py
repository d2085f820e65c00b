from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "orderdesk.dashboard"
    label = "dashboard"
