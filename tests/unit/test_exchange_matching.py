"""Exchange of places: top trading cycles over parents' wishes (property tests, no database).

Whatever the requests, nobody is worse off, every cycle is valid (birth year, language, each
place given once and received once) and the outcome does not depend on the order of requests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from core.exchange.cycles import Wish, acceptable, match
from core.exchange.matching import Participant, top_trading_cycles
from core.exchange.places import Holding, fits

KINDERGARTENS = 5
YEARS = (2021, 2022)
LANGUAGES = ("kk", "ru")


def _holding(i: int, kg: int, year: int, language: str, group_year: int) -> Holding:
    app = SimpleNamespace(id=1000 + i, birth_year=year, queue_type="general", child_id=i)
    group = SimpleNamespace(
        id=kg * 10 + YEARS.index(group_year) * 2 + LANGUAGES.index(language),
        kind="general",
        birth_year=group_year,
        last_birth_year=None,
        language=language,
        kindergarten_id=kg,
    )
    return cast(
        Holding,
        SimpleNamespace(
            referral=SimpleNamespace(id=500 + i, number=f"NP-2026-{500 + i:06d}"),
            application=app,
            group=group,
            kindergarten=SimpleNamespace(id=kg, city_id=1),
        ),
    )


_WISH = st.tuples(
    st.integers(1, KINDERGARTENS),  # own kindergarten
    st.sampled_from(YEARS),  # the child's birth year
    st.sampled_from(LANGUAGES),  # the own group's language
    st.integers(0, 3),  # 0: the own group is of another cohort (its place fits nobody's child)
    st.lists(st.integers(1, KINDERGARTENS), min_size=1, max_size=3, unique=True),
    st.integers(0, 3),  # 0: the family asks for the other language
)


def _wishes(rows: list[tuple[int, int, str, int, list[int], int]]) -> list[Wish]:
    found = []
    for i, (kg, year, language, same, prefs, keep) in enumerate(rows):
        group_year = year if same else YEARS[1 - YEARS.index(year)]
        wanted = language if keep else LANGUAGES[1 - LANGUAGES.index(language)]
        holding = _holding(i, kg, year, language, group_year)
        found.append(Wish(i, holding, wanted, tuple(k for k in prefs if k != kg) or (kg % 5 + 1,)))
    return found


def wishes() -> st.SearchStrategy[list[Wish]]:
    return st.lists(_WISH, max_size=10).map(_wishes)


def _outcome(cycles: list[list[tuple[Wish, Holding]]]) -> set[frozenset[tuple[int, int]]]:
    return {frozenset((w.request_id, h.referral.id) for w, h in cycle) for cycle in cycles}


@settings(max_examples=150, deadline=None)
@given(wishes(), st.randoms(use_true_random=False))
def test_exchanges_leave_nobody_worse_off_are_valid_and_ignore_the_order_of_requests(
    found: list[Wish], rnd: Any
) -> None:
    cycles = match(found)
    taken: set[int] = set()
    moved: set[int] = set()
    for cycle in cycles:
        assert len(cycle) >= 2
        for wish, place in cycle:
            # strictly better than the own place: a kindergarten the parent named, not the own
            assert place.kindergarten.id in wish.preferences
            assert place.kindergarten.id != wish.holding.kindergarten.id
            assert place.referral.id in acceptable(wish, found)
            # the group takes the child: birth year, queue type and the language asked for
            assert fits(wish.holding.application, wish.language, place.group)
            assert place.group.birth_year == wish.holding.application.birth_year
            assert place.group.language == wish.language
        # the cycle's own seats, each given once and received once
        given_up = {w.holding.referral.id for w, _ in cycle}
        assert sorted(h.referral.id for _, h in cycle) == sorted(given_up)
        assert not taken & given_up
        taken |= given_up
        participants = {w.request_id for w, _ in cycle}
        assert not moved & participants
        moved |= participants
    shuffled = list(found)
    rnd.shuffle(shuffled)
    assert _outcome(match(shuffled)) == _outcome(cycles)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 7), max_size=4, unique=True), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_top_trading_cycles_is_individually_rational_and_unique(
    rankings: list[list[int]], rnd: Any
) -> None:
    """Abstract form: participant i owns place i and ranks some others."""
    n = len(rankings)
    people = [
        Participant(i, i, tuple(p for p in ranking if p < n and p != i))
        for i, ranking in enumerate(rankings)
    ]
    cycles = top_trading_cycles(people)
    for cycle in cycles:
        for trade in cycle:
            assert trade.place in people[trade.key].wants
    shuffled = list(people)
    rnd.shuffle(shuffled)
    again = top_trading_cycles(shuffled)
    assert {frozenset((t.key, t.place) for t in c) for c in again} == {
        frozenset((t.key, t.place) for t in c) for c in cycles
    }


def test_three_parents_who_each_want_the_next_ones_kindergarten_swap_in_a_cycle() -> None:
    a = Wish(1, _holding(1, 1, 2021, "ru", 2021), "ru", (2,))
    b = Wish(2, _holding(2, 2, 2021, "ru", 2021), "ru", (3,))
    c = Wish(3, _holding(3, 3, 2021, "ru", 2021), "ru", (1,))
    [cycle] = match([c, a, b])
    assert [(w.request_id, h.kindergarten.id) for w, h in cycle] == [(1, 2), (2, 3), (3, 1)]


def test_a_family_that_wants_a_kazakh_group_is_not_given_a_russian_one() -> None:
    a = Wish(1, _holding(1, 1, 2021, "kk", 2021), "kk", (2,))
    b = Wish(2, _holding(2, 2, 2021, "ru", 2021), "ru", (1,))
    assert match([a, b]) == []
