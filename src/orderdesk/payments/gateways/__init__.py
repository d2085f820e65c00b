"""Payment gateways behind one protocol (see base.py); `get_gateway` picks one by name."""

from orderdesk.payments.gateways.registry import get_gateway

__all__ = ["get_gateway"]
