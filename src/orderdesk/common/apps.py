from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "orderdesk.common"
    label = "common"
