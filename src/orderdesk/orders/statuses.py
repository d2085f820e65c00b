"""The order's work status machine. Changes go through orders.services.order_transition."""

from orderdesk.common.statemachine import StateMachine
from orderdesk.orders.models import OrderStatus as S

ORDER_STATUS_MACHINE = StateMachine(
    {
        S.OPEN: {S.IN_PROGRESS, S.READY_TO_SHIP, S.CANCELLED},
        S.IN_PROGRESS: {S.READY_TO_SHIP, S.OPEN, S.CANCELLED},
        S.READY_TO_SHIP: {S.SHIPPED, S.IN_PROGRESS, S.CANCELLED},
        S.SHIPPED: set(),
        S.CANCELLED: set(),
    }
)
