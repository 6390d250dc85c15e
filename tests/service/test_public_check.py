"""The public check's limits and contents on real Redis and PostgreSQL: the per-user look-up
count holds under concurrency, and the public record carries no kindergartens or queue type."""

from __future__ import annotations

import asyncio
import dataclasses

from redis.asyncio import Redis

from core.applications.public import (
    PublicApplication,
    count_lookup,
    lookup_number,
    parse_application_number,
)
from core.platform.errors import DomainError
from core.platform.settings import Settings


async def test_concurrent_look_ups_of_one_user_never_pass_the_hourly_limit(
    redis: Redis, settings: Settings
) -> None:
    limit = settings.public_check_per_hour
    results = await asyncio.gather(
        *(count_lookup(redis, 640001, settings) for _ in range(limit + 10)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 10
    assert {r.reason for r in refused} == {"public_check_limit"}
    assert all(0 < r.params["seconds_left"] <= 3600 for r in refused)
    await count_lookup(redis, 640002, settings)  # another user is not affected


def test_the_public_record_has_no_kindergartens_and_no_queue_type() -> None:
    names = {field.name for field in dataclasses.fields(PublicApplication)}
    assert names == {
        "number",
        "status",
        "submitted_at",
        "benefit_class",
        "applicant_name",
        "child_name",
        "birth_year",
        "position",
    }


def test_application_numbers_are_ascii_digits_within_bounds() -> None:
    assert parse_application_number("1289012") == 1289012
    assert parse_application_number(" #1289012 ") == 1289012
    assert parse_application_number("№ 1289012") == 1289012
    for odd in ("", "0", "abc", "-1", "1e6", "١٢٨٩٠١٢", "１２８９０１２", "9" * 23, "12 34"):
        assert parse_application_number(odd) is None, odd


async def test_a_number_beyond_the_column_is_not_found_without_a_query(
    db: None, settings: Settings
) -> None:
    assert await lookup_number(2**31, settings) is None
    assert await lookup_number(9_999_999_999, settings) is None
