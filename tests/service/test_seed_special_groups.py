"""The demo city shows the special groups a parent of the correctional queue looks for."""

from __future__ import annotations

from core.models import ApplicationChoice, Group, GroupKind, QueueType
from devtools.seed import SeedSize, seed

SMALL = SeedSize(kindergartens=12, applications=900, random_seed=7)


async def test_the_demo_city_has_correctional_and_sanatorium_groups(db: None, settings) -> None:
    await seed(settings, SMALL)
    special = {
        kind: await Group.filter(kind=kind).values_list("kindergarten_id", flat=True)
        for kind in (GroupKind.correctional, GroupKind.sanatorium)
    }
    assert special[GroupKind.correctional] and special[GroupKind.sanatorium]
    assert await Group.filter(kind__in=list(special), birth_year__isnull=False).count() > 0

    # A correctional application chose only kindergartens that can offer it a seat.
    takes_it = set(special[GroupKind.correctional])
    chosen = await ApplicationChoice.filter(queue_type=QueueType.correctional).values_list(
        "kindergarten_id", flat=True
    )
    assert chosen and set(chosen) <= takes_it


async def test_the_demo_city_has_a_mixed_age_group_for_two_birth_years(db: None, settings) -> None:
    await seed(settings, SMALL)
    mixed = await Group.filter(last_birth_year__isnull=False)
    assert mixed
    assert all(g.last_birth_year == g.birth_year + 1 and g.age_to - g.age_from == 2 for g in mixed)
