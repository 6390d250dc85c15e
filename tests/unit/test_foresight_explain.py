"""The explanation of a moved place always adds up to the change of the place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.foresight.explain import Entered, Left, Member, Snapshot, explain
from core.models import Stream
from core.queue.places import StreamCounts, position_from

T0 = datetime(2025, 1, 1, tzinfo=UTC)

# one application: (stream before, stream after, status before, status after, minutes)
statuses = st.sampled_from(
    [
        "active",
        "absent",
        "stop_listed",
        "archived:enrolled",
        "archived:withdrawn",
        "archived:aged_out",
    ]
)
apps = st.tuples(st.integers(0, 2), st.integers(0, 2), statuses, statuses, st.integers(0, 500))


def _snapshot(rows: list[tuple[int, int, str, str, int]], moment: int) -> Snapshot:
    active, inactive = {}, {}
    for i, row in enumerate(rows, start=1):
        stream, status = row[moment], row[2 + moment]
        if status == "active":
            active[i] = Member(i, stream, T0 + timedelta(minutes=row[4]), i)
        elif status != "absent":
            inactive[i] = status
    return Snapshot(active, inactive)


def _position(me: Member, snapshot: Snapshot, ratio: int) -> int:
    """The cabinet's arithmetic (core.queue.places), independent of the explanation."""
    members = [m for m in snapshot.active.values() if m.id != me.id] + [me]
    counts = StreamCounts(*(sum(1 for m in members if m.stream == s) for s in (0, 1, 2)))
    rank = sum(
        1
        for m in members
        if m.stream == me.stream and (m.submitted_at, m.number) <= (me.submitted_at, me.number)
    )
    return position_from(Stream(me.stream), rank, counts, ratio).place


@settings(max_examples=120, deadline=None)
@given(
    rows=st.lists(apps, max_size=30),
    mine=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 500)),
    ratio=st.integers(0, 4),
)
def test_the_explanation_adds_up_to_the_change_of_the_place(
    rows: list[tuple[int, int, str, str, int]], mine: tuple[int, int, int], ratio: int
) -> None:
    before, after = _snapshot(rows, 0), _snapshot(rows, 1)
    me_id = len(rows) + 1
    at = T0 + timedelta(minutes=mine[2])
    me_before, me_after = Member(me_id, mine[0], at, me_id), Member(me_id, mine[1], at, me_id)
    e = explain(me_before, me_after, before, after, ratio)
    assert e.before == _position(me_before, before, ratio)
    assert e.after == _position(me_after, after, ratio)
    assert e.after - e.before == e.entered_total - e.left_total


def test_a_referral_ahead_and_an_extraordinary_newcomer_are_told_apart() -> None:
    me = Member(10, Stream.general, T0 + timedelta(days=9), 10)
    first = Member(1, Stream.general, T0, 1)
    second = Member(2, Stream.general, T0 + timedelta(days=1), 2)
    newcomer = Member(3, Stream.extraordinary, T0 + timedelta(days=20), 3)
    before = Snapshot({1: first, 2: second})
    after = Snapshot({2: second, 3: newcomer}, {1: "archived:enrolled"})
    e = explain(me, me, before, after, 3)
    assert (e.before, e.after) == (3, 3)
    assert e.entered == {Entered.extraordinary: 1}
    assert e.left == {Left.referral: 1}
