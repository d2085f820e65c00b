"""Staff roles are Django groups carrying the orderdesk permissions.

A CSR works orders; a supervisor may also override the ship gate, record an external
payment and cancel. Permissions live on the Order model (orders app) so that
`user.has_perm("orders.ship_order")` reads like the rule it enforces.
"""

CSR = "CSR"
SUPERVISOR = "Supervisor"
ROLES = {"csr": CSR, "supervisor": SUPERVISOR}

CSR_PERMISSIONS = [
    "orders.view_order",
    "orders.work_order",  # notes, dates, assignment
    "orders.ship_order",
    "orders.send_payment_link",
    "orders.process_card",
    "accounts.view_account",
    "payments.view_authorization",
    "notifications.view_outboundemail",  # the recent e-mails page
]
SUPERVISOR_PERMISSIONS = CSR_PERMISSIONS + [
    "orders.override_ship_gate",
    "orders.record_external_payment",
    "orders.cancel_order",
    "security.unlock_login",  # lift a log-in lockout (django-axes)
    "security.view_audit",  # the audit of staff interventions and its export
    "api.view_apikey",  # the API keys screen
    "api.change_apikey",  # revoking a key there
    "crm.view_crmmessage",  # the CRM failures screen
    "crm.retry_crmmessage",  # its retry button
]
ROLE_PERMISSIONS = {CSR: CSR_PERMISSIONS, SUPERVISOR: SUPERVISOR_PERMISSIONS}
