"""Explicit state machines: a transition table in code, checked by one helper."""

from __future__ import annotations

from collections.abc import Mapping


class TransitionNotAllowed(Exception):
    """The requested status change is not in the machine's table."""

    def __init__(self, current: str, target: str):
        super().__init__(f"cannot go from {current} to {target}")
        self.current = current
        self.target = target


class StateMachine:
    def __init__(self, transitions: Mapping[str, frozenset[str] | set[str]]):
        self.transitions = {state: frozenset(targets) for state, targets in transitions.items()}

    def allowed(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        if not self.allowed(current, target):
            raise TransitionNotAllowed(current, target)

    def targets(self, current: str) -> frozenset[str]:
        return self.transitions.get(current, frozenset())

    def sources(self, target: str) -> tuple[str, ...]:
        """Every status that may move to `target`, in the table's order."""
        return tuple(state for state, targets in self.transitions.items() if target in targets)
