"""Place arithmetic in the distribution sequence (DOMAIN.md, "Order of the queue"): where the
`rank`-th application of a stream stands, from the stream totals alone (no rows loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Stream


@dataclass(frozen=True)
class StreamCounts:
    extraordinary: int = 0
    first_priority: int = 0
    general: int = 0

    @property
    def total(self) -> int:
        return self.extraordinary + self.first_priority + self.general

    def of(self, stream: Stream) -> int:
        return (self.extraordinary, self.first_priority, self.general)[int(stream)]


@dataclass(frozen=True)
class Position:
    """Place in the distribution sequence (1-based) of `total`, and who stands ahead by class."""

    place: int
    total: int
    ahead: StreamCounts


def sequence_place(stream: Stream, rank: int, counts: StreamCounts, ratio: int) -> int:
    """Place (1-based) of the `rank`-th application of `stream` in a cohort with `counts`."""
    return _ahead(stream, rank, counts, ratio).total + 1


def _ahead(stream: Stream, rank: int, counts: StreamCounts, ratio: int) -> StreamCounts:
    """How many of each class stand ahead of the `rank`-th application of `stream`."""
    if rank < 1:
        raise ValueError("rank is 1-based")
    e, p, g = counts.extraordinary, counts.first_priority, counts.general
    if stream is Stream.extraordinary:
        return StreamCounts(rank - 1, 0, 0)
    if stream is Stream.first_priority:
        generals = 0 if ratio == 0 else min(g, ratio * (rank - 1))
        return StreamCounts(e, rank - 1, generals)
    firsts = p if ratio == 0 else min(p, -(-rank // ratio))
    return StreamCounts(e, firsts, rank - 1)


def position_from(stream: Stream, rank: int, counts: StreamCounts, ratio: int) -> Position:
    ahead = _ahead(stream, rank, counts, ratio)
    return Position(place=ahead.total + 1, total=counts.total, ahead=ahead)
