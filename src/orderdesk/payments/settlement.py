"""What a late answer means to the workflow that asked for the authorization.

Reconciliation records an answer that did not come in time; the workflow that asked (the
customer's payment link) must then finish as it would have with the answer in hand. payments
never imports the floors above it, so each workflow registers here, from its
`AppConfig.ready`, the function that finishes its step, keyed by the authorization's source.
The function runs inside the transaction that recorded the answer, with the authorization
and its order locked, and returns whether it took charge of the hold.
"""

from __future__ import annotations

from collections.abc import Callable

from orderdesk.payments.models import Authorization

SettledHook = Callable[[Authorization], bool]

_hooks: dict[str, SettledHook] = {}


def settled_hook_register(source: str, hook: SettledHook) -> None:
    _hooks[source] = hook


def settled_hook_run(authorization: Authorization) -> bool:
    """Finish the workflow of a settled authorization; False if no workflow took charge."""
    hook = _hooks.get(authorization.source)
    return bool(hook and hook(authorization))
