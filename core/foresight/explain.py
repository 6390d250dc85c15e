"""Why a position moved between two moments: who entered ahead and who left ahead, and why.

Pure arithmetic over two snapshots of a cohort (the active applications at each moment, as
read from the audit log by `core.foresight.history`). The place of every member comes from the
same closed form as the cabinet's position (`core.queue.places.sequence_place`), so "ahead" is
the set of members with a smaller place, the position is that set's size + 1, and

    position_after - position_before = entered_ahead - left_ahead

holds by construction: every member counted once, in exactly one reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.models import Stream
from core.queue.places import StreamCounts, sequence_place


class Entered(StrEnum):
    """Why an application now stands ahead that did not before."""

    extraordinary = "extraordinary"  # an extraordinary benefit (new, or confirmed)
    interleave = "interleave"  # the first-priority interleave placed it ahead
    restored = "restored"  # back from the stop-list (or an undone decision)


class Left(StrEnum):
    """Why an application that stood ahead no longer does."""

    referral = "referral"  # took a referral and was enrolled
    withdrawn = "withdrawn"  # withdrawn by the parent (or annulled)
    stop_listed = "stop_listed"  # put on the stop-list
    aged_out = "aged_out"  # the child grew past the kindergarten age
    behind = "behind"  # still queued, now behind (benefit ended, the interleave moved)


@dataclass(frozen=True)
class Member:
    """An application as the order sees it at one moment."""

    id: int
    stream: int
    submitted_at: datetime
    number: int


@dataclass(frozen=True)
class Snapshot:
    """A cohort at one moment: the active members, and the status of everyone else known
    (`status`: "stop_listed", or "archived:<reason>"; absent = not registered yet)."""

    active: Mapping[int, Member]
    inactive: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    before: int
    after: int
    entered: dict[Entered, int]
    left: dict[Left, int]

    @property
    def change(self) -> int:
        """Positive: the place number grew (moved back)."""
        return self.after - self.before

    @property
    def entered_total(self) -> int:
        return sum(self.entered.values())

    @property
    def left_total(self) -> int:
        return sum(self.left.values())


def places(members: Iterable[Member], ratio: int) -> dict[int, int]:
    """Every member's place (1-based) in the distribution sequence."""
    by_stream: dict[int, list[Member]] = {0: [], 1: [], 2: []}
    for m in members:
        by_stream[int(m.stream)].append(m)
    counts = StreamCounts(*(len(by_stream[s]) for s in (0, 1, 2)))
    out: dict[int, int] = {}
    for s, rows in by_stream.items():
        rows.sort(key=lambda m: (m.submitted_at, m.number))
        for rank, m in enumerate(rows, start=1):
            out[m.id] = sequence_place(Stream(s), rank, counts, ratio)
    return out


def ahead_of(me: Member, snapshot: Snapshot, ratio: int) -> set[int]:
    """Who stands ahead of `me` (counted as active, like the cabinet counts a stop-listed
    application at the place it would take if restored)."""
    members = dict(snapshot.active)
    members[me.id] = me
    placed = places(members.values(), ratio)
    mine = placed[me.id]
    return {i for i, p in placed.items() if p < mine}


def explain(
    me_before: Member, me_after: Member, before: Snapshot, after: Snapshot, ratio: int
) -> Explanation:
    """Between two snapshots: how many entered ahead and left ahead, by reason."""
    ahead_before = ahead_of(me_before, before, ratio)
    ahead_after = ahead_of(me_after, after, ratio)
    entered: dict[Entered, int] = {}
    for i in ahead_after - ahead_before:
        reason = _why_entered(i, before, after)
        entered[reason] = entered.get(reason, 0) + 1
    left: dict[Left, int] = {}
    for i in ahead_before - ahead_after:
        why = _why_left(i, after)
        left[why] = left.get(why, 0) + 1
    return Explanation(len(ahead_before) + 1, len(ahead_after) + 1, entered, left)


def _why_entered(i: int, before: Snapshot, after: Snapshot) -> Entered:
    now = after.active[i]
    was = before.active.get(i)
    if was is None and before.inactive.get(i) == "stop_listed":
        return Entered.restored
    if was is None and (before.inactive.get(i) or "").startswith("archived"):
        return Entered.restored  # an enrolment undone by staff
    if now.stream == Stream.extraordinary and (was is None or was.stream != now.stream):
        return Entered.extraordinary
    return Entered.interleave


def _why_left(i: int, after: Snapshot) -> Left:
    if i in after.active:
        return Left.behind
    status = after.inactive.get(i, "archived:withdrawn")
    if status == "stop_listed":
        return Left.stop_listed
    reason = status.partition(":")[2]
    if reason == "enrolled":
        return Left.referral
    if reason == "aged_out":
        return Left.aged_out
    return Left.withdrawn
