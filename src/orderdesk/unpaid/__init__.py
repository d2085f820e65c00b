"""The unpaid panel's read model: its groups, rows, counts and the figures beside it.

One module for every reader (the dashboard, the API's `/api/unpaid` and `/metrics`), so
that "on the unpaid panel" means the same everywhere. The panel reads live orders filtered
on the denormalized payment state and expiry, which the partial indexes
`order_payment_panel` (payment_state, payment_expires_at, id, then status, kind,
assignee and the other sort keys, WHERE live) and `order_delivery_risk` (the same with the
delivery date, WHERE live and dated) serve; the live condition is written in literals (see
`orderdesk.common.sql`).
"""
