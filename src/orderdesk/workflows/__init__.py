"""Workflows that cross the domain: each moves an order and its payments together.

Shipping captures, cancelling voids, a replacement moves an authorization from the old
order to the new; `orders` and `payments` know nothing of each other's services, so the
steps that need both live here, above them (see the layers contract in pyproject.toml).
"""
