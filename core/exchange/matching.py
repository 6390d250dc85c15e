"""Top trading cycles (Shapley and Scarf): who gives whose place to whom.

Each participant owns one place and ranks the other places it would take, best first (places it
did not name are worse than its own). Every participant points at the owner of the best place
still in play, or at itself when none is left; the cycles of that graph trade, leave, and the
rest point again. With strict rankings the result is unique, so it does not depend on the order
of the requests, and nobody gets a place worse than their own (individually rational).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)  # a participant
P = TypeVar("P", bound=Hashable)  # a place


@dataclass(frozen=True)
class Participant(Generic[K, P]):
    key: K
    place: P
    wants: tuple[P, ...]  # acceptable places, best first (own place excluded)


@dataclass(frozen=True)
class Trade(Generic[K, P]):
    """In a cycle: `key` receives `place`, the place of the next participant."""

    key: K
    place: P


def top_trading_cycles(
    participants: Sequence[Participant[K, P]], *, order: Sequence[K] | None = None
) -> list[list[Trade[K, P]]]:
    """The cycles of trades (each of length ≥ 2). Participants who keep their place are left
    out. `order` only fixes how cycles are listed (a canonical order of keys, by default the
    keys sorted); it never changes who trades with whom."""
    owner: dict[P, K] = {}
    for p in participants:
        if p.place in owner:
            raise ValueError(f"place {p.place!r} owned twice")
        owner[p.place] = p.key
    wants = {p.key: [w for w in p.wants if w in owner and w != p.place] for p in participants}
    place_of = {p.key: p.place for p in participants}
    rank = {key: i for i, key in enumerate(order if order is not None else sorted(place_of))}  # type: ignore[type-var]
    remaining = set(place_of)

    def points(key: K) -> K:
        best = next((w for w in wants[key] if owner[w] in remaining), None)
        return owner[best] if best is not None else key

    cycles: list[list[Trade[K, P]]] = []
    while remaining:
        # Any walk along the pointers ends in a cycle; it trades and leaves (removing cycles
        # one at a time or a round at once gives the same outcome).
        seen: dict[K, int] = {}
        path: list[K] = []
        node = min(remaining, key=rank.__getitem__)
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = points(node)
        cycle = path[seen[node] :]
        if len(cycle) > 1:
            first = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
            cycle = cycle[first:] + cycle[:first]
            nxt = {k: cycle[(i + 1) % len(cycle)] for i, k in enumerate(cycle)}
            cycles.append([Trade(k, place_of[nxt[k]]) for k in cycle])
        remaining.difference_update(cycle)
    cycles.sort(key=lambda c: rank[c[0].key])
    return cycles
