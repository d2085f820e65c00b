from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "orderdesk.common"
    label = "common"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from orderdesk.common.logs import request_id_begin, request_id_end

        request_started.connect(request_id_begin, dispatch_uid="orderdesk.request_id.begin")
        request_finished.connect(request_id_end, dispatch_uid="orderdesk.request_id.end")
