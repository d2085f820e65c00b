from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "orderdesk.crm"
    label = "crm"
