from orderdesk.crm.adapters.base import Delivered
from orderdesk.crm.models import CrmMessage


class LocalAdapter:
    """No CRM configured (the default): the message is kept here, marked delivered locally."""

    name = "none"

    def deliver(self, message: CrmMessage) -> Delivered:
        return Delivered(note="no CRM configured (ORDERDESK_CRM=none): kept in orderdesk only")
