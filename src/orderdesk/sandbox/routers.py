"""The sandbox's ledger is read and written on its own connection (the `sandbox` alias).

orderdesk's transactions never contain a gateway's records: when orderdesk rolls back after
the sandbox acted (a shipment refused after the capture, a lost answer), the ledger keeps
what the gateway did, as a remote gateway would.
"""

LEDGER = "sandbox"


class LedgerRouter:
    def db_for_read(self, model, **hints):
        return LEDGER if model._meta.app_label == "sandbox" else None

    def db_for_write(self, model, **hints):
        return LEDGER if model._meta.app_label == "sandbox" else None

    def allow_relation(self, first, second, **hints):
        return None

    def allow_migrate(self, db, app_label, **hints):
        if db == LEDGER:
            return app_label == "sandbox"
        # The main database has the ledger's tables too: on PostgreSQL the ledger's
        # connection reaches the same database.
        return None
