"""The record of one chain walk: which entries were asked, what each answered and how long it took.

Providers add to the reason of the step they are in with ``note()``. A trace never holds a
secret: reasons are written by providers for people, and providers must
not put secret values in them (tests check this for the first-party providers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Literal

__all__ = ["Outcome", "Trace", "TraceStep", "collect_notes", "note"]

#: what one chain entry answered
Outcome = Literal["found", "not_found", "unavailable", "error", "skipped"]


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One chain entry's answer."""

    entry: str
    type: str
    outcome: Outcome
    reason: str
    elapsed_ms: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class Trace:
    """Every step of one walk, in chain order, and the query it was for."""

    query: dict[str, str | None]
    steps: list[TraceStep] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """``found`` if a step found it, else the answer of the last step."""
        if any(step.outcome == "found" for step in self.steps):
            return "found"
        return self.steps[-1].outcome if self.steps else "not_found"

    def to_dict(self) -> dict[str, object]:
        return {
            "query": dict(self.query),
            "outcome": self.outcome,
            "steps": [step.to_dict() for step in self.steps],
        }

    def __str__(self) -> str:
        lines = [
            f"{step.entry} ({step.type}): {step.outcome}: {step.reason}" for step in self.steps
        ]
        return "; ".join(lines) or "no chain entries"


_notes: ContextVar[list[str] | None] = ContextVar("credchain_notes", default=None)


def note(text: str) -> None:
    """Add a line to the current chain step's trace reason (say which keys or rule, no secret).

    Providers call it from their hooks; outside a walk it does nothing.
    """
    notes = _notes.get()
    if notes is not None:
        notes.append(text)


@contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect the ``note()`` calls made in the block (one chain step)."""
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)
