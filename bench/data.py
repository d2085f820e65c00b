"""Build the benchmark data set with set-based SQL: accounts, orders and authorizations.

The same builder as the large demo (`orderdesk.operations.demo_bulk`, where the data set is
described), with the bench's names: orders B1…BN, accounts "Bench customer n", ids from 1.
"""

from __future__ import annotations

from orderdesk.operations.demo_bulk import ACCOUNTS, BulkNaming, bulk_build

__all__ = ["ACCOUNTS", "build"]

BENCH_NAMING = BulkNaming(number_prefix="B", account_name="Bench customer ", account_email="bench")


def build(order_count: int) -> None:
    bulk_build(order_count, naming=BENCH_NAMING)
