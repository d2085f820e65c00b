from django.urls import path

from orderdesk.api.api import api

urlpatterns = [path("", api.urls)]
