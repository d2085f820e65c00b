from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from orderdesk.crm.models import CrmMessage


@dataclass(frozen=True)
class Delivered:
    remote_id: str = ""
    note: str = ""
    # (order number, the CRM's record id) for each order the CRM answered a record for:
    # kept on the order (Order.crm_id) the first time.
    record_ids: tuple[tuple[str, str], ...] = ()


class CrmDeliveryError(Exception):
    """The CRM did not take the message. `retryable` is False when retrying cannot help."""

    def __init__(self, reason: str, *, retryable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class CrmAdapter(Protocol):
    name: str

    def deliver(self, message: CrmMessage) -> Delivered: ...
