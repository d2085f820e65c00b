from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "orderdesk.operations"
    label = "operations"
