"""Applications whose queue ordering changed in this task, noted for the position index
(`core.queue.index.sync_changed` moves them after the commit)."""

from __future__ import annotations

from contextvars import ContextVar

# Bounded: a task that never drains it keeps the
# latest ids only (the index is rebuilt regularly anyway).
_changed: ContextVar[set[int] | None] = ContextVar("queue_changed", default=None)
_CHANGED_MAX = 10_000


def note_changed(application_id: int) -> None:
    changed = _changed.get()
    if changed is None:
        changed = set()
        _changed.set(changed)
    if len(changed) >= _CHANGED_MAX:
        changed.clear()
    changed.add(application_id)


def take_changed() -> set[int]:
    """The noted application ids (and forget them)."""
    changed = _changed.get()
    if not changed:
        return set()
    out = set(changed)
    changed.clear()
    return out
