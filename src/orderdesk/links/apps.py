from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "orderdesk.links"
    label = "links"

    def ready(self) -> None:
        # A customer's link authorization settled by reconciliation finishes the approval
        # (payments cannot import links; it calls what is registered for the source).
        from orderdesk.links.services import link_authorization_settled
        from orderdesk.payments.models import AuthorizationSource
        from orderdesk.payments.settlement import settled_hook_register

        settled_hook_register(AuthorizationSource.CUSTOMER_LINK, link_authorization_settled)
