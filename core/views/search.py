"""Kindergartens by a typed name or number: SQL narrows by the stored search key, Python ranks.

One search for the parents' directory, the submission wizard and the staff pickers
(`core.platform.search` holds the normalisation). Only ids and short keys of the rows that
contain the query's most selective part are read, never every row with all its fields.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core.models import Kindergarten
from core.platform import search


async def matching_ids(candidates: QuerySet[Kindergarten], text: str) -> list[int]:
    """Ids of the `candidates` whose name matches `text`, best match first, then by name in
    natural order ("№3" before "№10"); every candidate in natural order when `text` has no
    words."""
    query = search.parse(text)
    narrowed = candidates
    if not query.empty:
        parts = [Q(search_key__contains=part) for part in query.narrowing()]
        # A row whose key was never filled (written around `Kindergarten.save`) still counts.
        narrowed = candidates.filter(reduce(or_, parts) | Q(search_key=""))
    rows = await narrowed.values_list("id", "search_key", "name_ru", "name_kk")
    keyed = sorted(
        (
            (int(row_id), key or search.search_key(name_ru, name_kk), name_ru)
            for row_id, key, name_ru, name_kk in rows
        ),
        key=lambda row: (search.natural_key(row[2]), row[0]),
    )
    return search.rank(query, ((row_id, key) for row_id, key, _ in keyed))


async def find(
    candidates: QuerySet[Kindergarten], text: str, *, limit: int | None = None
) -> list[Kindergarten]:
    """The matching kindergartens themselves (`matching_ids`, at most `limit`), in that order."""
    ids = await matching_ids(candidates, text)
    return await load(ids[:limit] if limit is not None else ids)


async def load(ids: list[int]) -> list[Kindergarten]:
    """The kindergartens with these ids, in this order."""
    rows = {row.id: row for row in await Kindergarten.filter(id__in=ids)}
    return [rows[i] for i in ids if i in rows]
