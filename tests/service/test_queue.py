"""Queue order: the arithmetic matches an explicit interleave, and positions from the database
match a brute-force ordering of the cohort."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.models import Application, ApplicationStatus, Language, Stream
from core.queue.order import (
    city_position,
    distribution_order,
    interleave,
    kindergarten_positions,
    sync_choices,
)
from core.queue.places import StreamCounts, sequence_place
from tests.fixtures.queue import (
    T0,
    make_application,
    make_child,
    make_city,
    make_kindergarten,
    make_parent,
)


def simulate(e: int, p: int, g: int, ratio: int) -> list[tuple[Stream, int]]:
    """The distribution sequence spelled out slot by slot: a repeating pattern of one
    first-priority slot and `ratio` general slots; a slot whose stream is empty is skipped."""
    seq = [(Stream.extraordinary, k) for k in range(1, e + 1)]
    if ratio == 0:
        seq += [(Stream.first_priority, k) for k in range(1, p + 1)]
        seq += [(Stream.general, j) for j in range(1, g + 1)]
        return seq
    pattern = [Stream.first_priority] + [Stream.general] * ratio
    taken = {Stream.first_priority: 0, Stream.general: 0}
    limit = {Stream.first_priority: p, Stream.general: g}
    slot = 0
    while taken[Stream.first_priority] < p or taken[Stream.general] < g:
        stream = pattern[slot % len(pattern)]
        slot += 1
        if taken[stream] < limit[stream]:
            taken[stream] += 1
            seq.append((stream, taken[stream]))
    return seq


def test_ratio_three_reads_p1_g1_g2_g3_p2_g4() -> None:
    labels = [f"{'EPG'[s]}{k}" for s, k in simulate(0, 3, 5, 3)]
    assert labels == ["P1", "G1", "G2", "G3", "P2", "G4", "G5", "P3"]
    counts = StreamCounts(0, 3, 5)
    assert sequence_place(Stream.first_priority, 2, counts, 3) == 5
    assert sequence_place(Stream.general, 4, counts, 3) == 6
    assert sequence_place(Stream.first_priority, 3, counts, 3) == 8


@hsettings(max_examples=300, deadline=None)
@given(
    e=st.integers(0, 6),
    p=st.integers(0, 25),
    g=st.integers(0, 40),
    ratio=st.integers(0, 5),
)
def test_sequence_place_equals_simulated_interleave(e: int, p: int, g: int, ratio: int) -> None:
    counts = StreamCounts(e, p, g)
    seq = simulate(e, p, g, ratio)
    assert len(seq) == e + p + g
    for place, (stream, rank) in enumerate(seq, start=1):
        assert sequence_place(stream, rank, counts, ratio) == place


@hsettings(max_examples=200, deadline=None)
@given(
    e=st.integers(0, 6),
    p=st.integers(0, 25),
    g=st.integers(0, 40),
    ratio=st.integers(0, 5),
    limit=st.integers(1, 80),
)
def test_interleave_of_stream_prefixes_is_the_sequence_prefix(
    e: int, p: int, g: int, ratio: int, limit: int
) -> None:
    streams = [
        [(s, k) for k in range(1, n + 1)][:limit] for s, n in zip(Stream, (e, p, g), strict=True)
    ]
    assert interleave(streams, ratio, limit) == simulate(e, p, g, ratio)[:limit]


def brute_force(apps: list[Application], ratio: int) -> list[Application]:
    by_stream = {
        s: sorted(
            (a for a in apps if a.stream == s and a.status == ApplicationStatus.active),
            key=lambda a: (a.submitted_at, a.number),
        )
        for s in Stream
    }
    seq = simulate(*(len(by_stream[s]) for s in Stream), ratio)
    return [by_stream[s][k - 1] for s, k in seq]


async def test_positions_match_a_brute_force_ordering(db: None, settings) -> None:
    rnd = random.Random(7)
    city = await make_city()
    kg_a = await make_kindergarten(city, 1)
    kg_b = await make_kindergarten(city, 2)
    parent = await make_parent()
    other_year = await make_child(parent, date(2020, 2, 2))
    await make_application(
        applicant=parent, child=other_year, city=city, choices=[(kg_a, Language.ru)]
    )
    apps: list[Application] = []
    for n in range(60):
        child = await make_child(parent, date(2021, 1 + n % 12, 1))
        stream = rnd.choices(list(Stream), weights=[1, 3, 8])[0]
        # Several share a submission time: the number breaks the tie.
        submitted = T0 + timedelta(minutes=rnd.randint(0, 20))
        status = rnd.choices(
            [ApplicationStatus.active, ApplicationStatus.stop_listed, ApplicationStatus.archived],
            weights=[8, 1, 1],
        )[0]
        choices = []
        if rnd.random() < 0.7:
            choices.append((kg_a, rnd.choice([Language.kk, Language.ru])))
        if rnd.random() < 0.5:
            choices.append((kg_b, Language.kk))
        apps.append(
            await make_application(
                applicant=parent,
                child=child,
                city=city,
                stream=stream,
                submitted_at=submitted,
                number=5000 - n,  # numbers against time order, to prove time comes first
                status=status,
                choices=choices,
            )
        )

    expected = brute_force(apps, settings.first_priority_ratio)
    for place, app in enumerate(expected, start=1):
        position = await city_position(app, settings)
        assert position.place == place, app.number
        assert position.total == len(expected)
        ahead = expected[: place - 1]
        assert position.ahead == StreamCounts(
            *(sum(1 for a in ahead if a.stream == s) for s in Stream)
        )

    for app in apps:
        await app.fetch_related("choices")
    for app in apps:
        positions = await kindergarten_positions(app, settings)
        assert [c.kindergarten_id for c, _ in positions] == [
            c.kindergarten_id for c in sorted(app.choices, key=lambda c: c.rank)
        ]
        for choice, position in positions:
            queue = [
                a
                for a in apps
                if any(
                    c.kindergarten_id == choice.kindergarten_id and c.language == choice.language
                    for c in a.choices
                )
            ]
            if app.status != ApplicationStatus.active:
                continue
            order = brute_force(queue, settings.first_priority_ratio)
            assert position.place == order.index(app) + 1
            assert position.total == len(order)

    first = await distribution_order(
        city_id=city.id,
        queue_type="general",
        birth_year=2021,
        limit=25,
        ratio=settings.first_priority_ratio,
    )
    assert [a.id for a in first] == [a.id for a in expected[:25]]
    skipped = {expected[0].id, expected[3].id}
    first = await distribution_order(
        city_id=city.id,
        queue_type="general",
        birth_year=2021,
        limit=10,
        ratio=settings.first_priority_ratio,
        exclude_application_ids=skipped,
    )
    assert [a.id for a in first] == [a.id for a in expected if a.id not in skipped][:10]

    queue_a_ru = [
        a
        for a in apps
        if any(c.kindergarten_id == kg_a.id and c.language == Language.ru for c in a.choices)
    ]
    first = await distribution_order(
        city_id=city.id,
        queue_type="general",
        birth_year=2021,
        kindergarten_id=kg_a.id,
        language=Language.ru,
        limit=100,
        ratio=settings.first_priority_ratio,
    )
    assert [a.id for a in first] == [a.id for a in brute_force(queue_a_ru, 3)]


async def test_stop_listed_application_leaves_the_queue_and_returns_at_its_time(
    db: None, settings
) -> None:
    city = await make_city()
    kg = await make_kindergarten(city)
    parent = await make_parent()
    apps = []
    for n in range(4):
        child = await make_child(parent)
        apps.append(
            await make_application(
                applicant=parent,
                child=child,
                city=city,
                submitted_at=T0 + timedelta(hours=n),
                choices=[(kg, Language.kk)],
            )
        )
    last = apps[-1]
    assert (await city_position(last, settings)).place == 4

    second = apps[1]
    second.status = ApplicationStatus.stop_listed
    await second.save()
    await sync_choices(second)
    assert (await city_position(last, settings)).place == 3
    [(_, kg_position)] = await kindergarten_positions(last, settings)
    assert kg_position.place == 3 and kg_position.total == 3
    # While stop-listed it is told the place it would take back.
    assert (await city_position(second, settings)).place == 2

    second.status = ApplicationStatus.active
    await second.save()
    await sync_choices(second)
    assert (await city_position(last, settings)).place == 4
    [(_, kg_position)] = await kindergarten_positions(second, settings)
    assert kg_position.place == 2 and kg_position.ahead == StreamCounts(0, 0, 1)
