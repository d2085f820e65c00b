from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "orderdesk.notifications"
    label = "notifications"
