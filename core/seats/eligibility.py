"""Who may take a seat in a group, or receive an offer of one, now (DOMAIN.md, "Seats").

The one answer used by release addressees, general access, the free-seat list, the claim
(`core.referrals.take.take_seat`) and the seat-rush bench. The rules are pure functions over
loaded rows (`application_problem`, `group_problem`, `access_problem`); the query helpers below
load what they need (live referrals of children, twins, chosen languages) and apply them once,
in `eligible_twins` / `eligible_batch`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta
from typing import Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from core.models import (
    LIVE_REFERRAL_STATUSES,
    Application,
    ApplicationStatus,
    Child,
    GroupKind,
    Offer,
    OfferStatus,
    QueueType,
    Referral,
    ReferralMode,
)
from core.platform.settings import Settings

# Twins: children of one parent born at most this many days apart (DOMAIN.md, "within a month").
TWIN_DAYS = 31

# Which queue a group kind takes. Sanatorium groups take the general queue: benefit 9, a
# first-priority benefit of that queue, is "для зачисления в инклюзивные и санаторные группы"
# (queue-application-walkthrough.ru.txt:332), so its holders come first there; the correctional
# queue is for "специальные дошкольные организации" (application-rules.ru.txt:33), and the portal's
# protocol filters group kinds as "Любые" / "Коррекционные" only.
QUEUE_OF_KIND = {
    GroupKind.general: QueueType.general,
    GroupKind.correctional: QueueType.correctional,
    GroupKind.sanatorium: QueueType.general,
}


class ApplicationFacts(Protocol):
    """The application columns the rules read: an `Application`, or a row of the fast precheck."""

    @property
    def status(self) -> ApplicationStatus | str: ...
    @property
    def referral_mode(self) -> ReferralMode | str: ...
    @property
    def referral_from(self) -> date | None: ...
    @property
    def birth_year(self) -> int: ...
    @property
    def queue_type(self) -> QueueType | str: ...


class GroupFacts(Protocol):
    """The group columns the rules read: a `Group`, or a row of the fast precheck."""

    @property
    def kind(self) -> GroupKind | str: ...
    @property
    def birth_year(self) -> int: ...
    @property
    def last_birth_year(self) -> int | None: ...


class ChildFacts(Protocol):
    """Whose child an application is for: enough to find the child's twins."""

    @property
    def child_id(self) -> int: ...
    @property
    def applicant_id(self) -> int: ...
    @property
    def queue_type(self) -> QueueType | str: ...


def kinds_for(queue_type: QueueType | str) -> list[GroupKind]:
    """The group kinds an application of this queue type may take a seat in."""
    return [kind for kind, queue in QUEUE_OF_KIND.items() if queue == queue_type]


def application_problem(app: ApplicationFacts, today: date, settings: Settings) -> str | None:
    """Why this application may not receive a referral today (None: it may), apart from the
    group it wants and a live referral of the child."""
    if app.status == ApplicationStatus.stop_listed:
        return "stop_listed"
    if app.status != ApplicationStatus.active:
        return "not_active"
    if app.referral_mode == ReferralMode.from_date and (
        app.referral_from is None or app.referral_from > today
    ):
        return "mode_from_date"
    age_by_year = today.year - app.birth_year
    if age_by_year < settings.referral_min_age_years:
        return "child_too_young"
    if age_by_year >= settings.max_child_age_years:
        return "child_turns_six"
    return None


def birth_years(group: GroupFacts) -> list[int]:
    """The birth years a group takes: one cohort, or a mixed-age group's `birth_year` up to its
    `last_birth_year` (DOMAIN.md: a release names an "age range or birth year"; the portal's
    groups "от 3 до 5 лет")."""
    last = group.last_birth_year if group.last_birth_year is not None else group.birth_year
    return list(range(group.birth_year, max(last, group.birth_year) + 1))


def group_problem(app: ApplicationFacts, group: GroupFacts) -> str | None:
    """Why this application may not take a seat in this group (None: it may)."""
    if QUEUE_OF_KIND[GroupKind(group.kind)] != app.queue_type:
        return "group_kind_mismatch"
    if app.birth_year not in birth_years(group):
        return "birth_year_mismatch"
    return None


def access_problem(app_city_id: int, group_city_id: int) -> str | None:
    """Why this application may not take a general-access seat in this group (None: it may),
    beyond `application_problem` and `group_problem`: general access is for the city's
    applications (DOMAIN.md: "any eligible active application of a matching birth year and
    queue type in the city"). The teaching language does not restrict it: the sources match
    free seats to the child by age only ("Выходят доступные Детские сады, в которых есть
    свободные места, подходящие по возрасту Вашего ребенка", the portal guide; "Система покажет
    все детские сады, в которых есть группы, подходящие вашему ребенку по возрасту", the memo).
    The language a parent chose orders the kindergarten's own queue (the priority offers), and
    the list shows each group's language."""
    if group_city_id != app_city_id:
        return "city_mismatch"
    return None


async def children_with_live_referrals(
    conn: BaseDBAsyncClient | None, child_ids: Iterable[int]
) -> set[int]:
    """The children among `child_ids` holding a live referral (they may take no other seat)."""
    ids = list(child_ids)
    if not ids:
        return set()
    rows = (
        await Referral.filter(application__child_id__in=ids, status__in=LIVE_REFERRAL_STATUSES)
        .using_db(conn)
        .values("application__child_id")
    )
    return {int(row["application__child_id"]) for row in rows}


async def open_offer_releases(
    conn: BaseDBAsyncClient | None, application_ids: Iterable[int]
) -> list[int]:
    """The releases whose open offers these applications hold (their priority seats)."""
    ids = list(application_ids)
    if not ids:
        return []
    rows = (
        await Offer.filter(application_id__in=ids, status=OfferStatus.open)
        .using_db(conn)
        .values("release_id")
    )
    return sorted({int(row["release_id"]) for row in rows})


async def live_referral_of_child(conn: BaseDBAsyncClient | None, child_id: int) -> Referral | None:
    return (
        await Referral.filter(application__child_id=child_id, status__in=LIVE_REFERRAL_STATUSES)
        .using_db(conn)
        .first()
    )


async def twin_applications(
    app: ChildFacts, *, conn: BaseDBAsyncClient | None = None
) -> list[Application]:
    """Active applications of the same queue type for the child's twins: other children of the
    same applicant (or legal representative) born within `TWIN_DAYS` of this child."""
    child = await Child.filter(id=app.child_id).using_db(conn).prefetch_related("person").first()
    if child is None:
        return []
    born = child.person.birth_date
    siblings = (
        Application.filter(
            Q(applicant_id=app.applicant_id) | Q(child__representative_id=app.applicant_id),
            queue_type=app.queue_type,
            status=ApplicationStatus.active,
            child__person__birth_date__gte=born - timedelta(days=TWIN_DAYS),
            child__person__birth_date__lte=born + timedelta(days=TWIN_DAYS),
        )
        .exclude(child_id=app.child_id)
        .using_db(conn)
    )
    return list(await siblings.order_by("id"))


async def eligible_twins(
    app: Application,
    group: GroupFacts | None,
    today: date,
    settings: Settings,
    *,
    conn: BaseDBAsyncClient | None = None,
    twins: Iterable[Application] | None = None,
) -> list[Application]:
    """The twins that come along with this application (DOMAIN.md: "born within a month are a
    batch: referred only when enough seats exist for all"): those that may receive a referral
    today, with no live referral, and (given a group) that may take a seat in it. A twin of
    another birth year or queue, stop-listed, or waiting for its date is not part of the batch.
    `twins`: the twin applications when already loaded (e.g. locked by the caller)."""
    candidates = list(twins) if twins is not None else await twin_applications(app, conn=conn)
    fit = [
        twin
        for twin in candidates
        if application_problem(twin, today, settings) is None
        and (group is None or group_problem(twin, group) is None)
    ]
    live = await children_with_live_referrals(conn, [twin.child_id for twin in fit])
    return [twin for twin in fit if twin.child_id not in live]


async def eligible_batch(
    app: Application,
    group: GroupFacts,
    today: date,
    settings: Settings,
    *,
    conn: BaseDBAsyncClient | None = None,
    live_children: Collection[int] | None = None,
) -> list[Application] | None:
    """The application and its eligible twins, who are offered and referred together; None when
    the application itself may not take a seat in the group now (its own problem, the group,
    or its child's live referral). `live_children`: children known to hold a live referral
    (when the caller loaded them for a page of applications)."""
    if application_problem(app, today, settings) is not None or group_problem(app, group):
        return None
    if live_children is None:
        live_children = await children_with_live_referrals(conn, [app.child_id])
    if app.child_id in live_children:
        return None
    return [app, *await eligible_twins(app, group, today, settings, conn=conn)]
