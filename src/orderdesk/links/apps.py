from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "orderdesk.links"
    label = "links"
