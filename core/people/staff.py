"""Staff roles and their scope.

operator: the education department of one city (every kindergarten of it);
kindergarten_admin: one kindergarten; superadmin: everything. Staff commands call `check_scope`
on every action; the audit actor of a staff action is `actor(staff)` = "staff:<id>".
"""

from __future__ import annotations

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    BenefitStatus,
    City,
    Group,
    Kindergarten,
    Language,
    Offer,
    Referral,
    SeatRelease,
    StaffMember,
    StaffRole,
)
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.views import search as kindergarten_search

# The roles that work the queue (seats, benefits, referrals, broadcasts, figures); the
# anti-corruption officer reads corruption reports only (core.complaints.handling).
QUEUE_ROLES = frozenset({StaffRole.operator, StaffRole.kindergarten_admin, StaffRole.superadmin})


def actor(staff: StaffMember) -> str:
    return f"staff:{staff.id}"


async def staff_for(telegram_user_id: int | None) -> StaffMember | None:
    """The active staff member behind a Telegram user, or None."""
    if telegram_user_id is None:
        return None
    return await StaffMember.get_or_none(telegram_user_id=telegram_user_id, active=True)


def can_access(staff: StaffMember, kindergarten: Kindergarten) -> bool:
    if staff.role == StaffRole.superadmin:
        return True
    if staff.role == StaffRole.operator:
        return staff.city_id is not None and staff.city_id == kindergarten.city_id
    return staff.kindergarten_id is not None and staff.kindergarten_id == kindergarten.id


def check_scope(staff: StaffMember, kindergarten: Kindergarten) -> None:
    """Raise `out_of_scope` unless the staff member may act on this kindergarten."""
    if not can_access(staff, kindergarten):
        raise DomainError(Reason.out_of_scope, kindergarten_id=kindergarten.id)


async def kindergartens_in_scope(
    staff: StaffMember,
    *,
    limit: int = 50,
    search: str | None = None,
    city_id: int | None = None,
) -> list[Kindergarten]:
    """Kindergartens the staff member may act on; `search`: a kindergarten id or a name or
    number typed as a parent would (`core.views.search`: any case, ё = е, Kazakh letters,
    words in any order), best match first, so that a city of hundreds is reachable from a
    short list; `city_id` narrows the list further to one city. Natural order ("№3" before
    "№10") otherwise."""
    query = _scoped(staff, Kindergarten.all())
    if city_id is not None:
        query = query.filter(city_id=city_id)
    search = (search or "").strip()
    ids = await kindergarten_search.matching_ids(query, search)
    if search.isdigit() and await query.filter(id=int(search)).exists():
        ids = [int(search), *(i for i in ids if i != int(search))]
    return await kindergarten_search.load(ids[:limit])


async def matches_outside_scope(staff: StaffMember, search: str) -> bool:
    """True when a search that found nothing in the staff member's scope would find a
    kindergarten outside it (so "outside your scope" is the truth, not "nothing found")."""
    if staff.role == StaffRole.superadmin or not search.strip():
        return False
    return bool(await kindergarten_search.matching_ids(Kindergarten.all(), search))


def _scoped(staff: StaffMember, query: QuerySet[Kindergarten]) -> QuerySet[Kindergarten]:
    if staff.role not in QUEUE_ROLES:
        return query.filter(id__lt=0)
    if staff.role == StaffRole.operator:
        return query.filter(city_id=staff.city_id)
    if staff.role == StaffRole.kindergarten_admin:
        return query.filter(id=staff.kindergarten_id)
    return query


async def city_of(staff: StaffMember) -> int | None:
    """The city a staff member's figures are for: None (every city) for a superadmin; a
    kindergarten admin's kindergarten's city even when the role was stored without one."""
    if staff.role == StaffRole.superadmin:
        return None
    if staff.role == StaffRole.kindergarten_admin and staff.kindergarten_id is not None:
        kindergarten = await Kindergarten.get(id=staff.kindergarten_id)
        return kindergarten.city_id
    if staff.city_id is None:  # an operator always has one (add_staff); never "everything"
        raise DomainError(Reason.staff_city_required)
    return staff.city_id


async def kindergarten_in_scope(staff: StaffMember, kindergarten_id: int) -> Kindergarten:
    kindergarten = await Kindergarten.get_or_none(id=kindergarten_id)
    if kindergarten is None:
        raise DomainError(Reason.kindergarten_not_found, kindergarten_id=kindergarten_id)
    check_scope(staff, kindergarten)
    return kindergarten


async def groups_in_scope(staff: StaffMember, kindergarten_id: int) -> list[Group]:
    await kindergarten_in_scope(staff, kindergarten_id)
    return await Group.filter(kindergarten_id=kindergarten_id).order_by("birth_year", "name")


async def group_in_scope(staff: StaffMember, group_id: int) -> Group:
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise DomainError(Reason.group_not_found, group_id=group_id)
    await kindergarten_in_scope(staff, group.kindergarten_id)
    return group


async def pending_benefits(staff: StaffMember, *, limit: int = 20) -> list[Application]:
    """Applications whose extraordinary benefit document waits for a decision, in scope."""
    query = Application.filter(
        benefit_status=BenefitStatus.pending,
        status__in=[ApplicationStatus.active, ApplicationStatus.stop_listed],
    )
    if staff.role == StaffRole.operator:
        query = query.filter(city_id=staff.city_id)
    elif staff.role == StaffRole.kindergarten_admin:
        query = query.filter(choices__kindergarten_id=staff.kindergarten_id)
    return (
        await query.distinct()
        .order_by("submitted_at")
        .limit(limit)
        .prefetch_related("benefit_document")
    )


async def add_staff(
    telegram_user_id: int,
    role: StaffRole | str,
    *,
    city_code: str | None = None,
    kindergarten_id: int | None = None,
    name: str = "",
    by: str = "cli",
) -> StaffMember:
    """Grant (or change) a role; operators need a city, kindergarten admins a kindergarten."""
    role = StaffRole(role)
    city_id: int | None = None
    if role == StaffRole.operator:
        if not city_code:
            raise DomainError(Reason.staff_city_required)
        city = await City.get_or_none(code=city_code)
        if city is None:
            raise DomainError(Reason.city_not_found, city=city_code)
        city_id = city.id
    if role == StaffRole.kindergarten_admin:
        if kindergarten_id is None:
            raise DomainError(Reason.staff_kindergarten_required)
        kindergarten = await Kindergarten.get_or_none(id=kindergarten_id)
        if kindergarten is None:
            raise DomainError(Reason.kindergarten_not_found, kindergarten_id=kindergarten_id)
        city_id = kindergarten.city_id
    else:
        kindergarten_id = None
    async with in_transaction() as conn:
        member = await StaffMember.get_or_none(telegram_user_id=telegram_user_id, using_db=conn)
        before = _state(member) if member else None
        if member is None:
            member = await StaffMember.create(
                telegram_user_id=telegram_user_id,
                role=role,
                city_id=city_id,
                kindergarten_id=kindergarten_id,
                name=name,
                using_db=conn,
            )
        else:
            member.role = role
            member.city_id = city_id
            member.kindergarten_id = kindergarten_id
            member.name = name or member.name
            member.active = True
            await member.save(using_db=conn)
        await audit.record(
            "staff.granted",
            "staff",
            member.id,
            actor=by,
            before=before,
            after=_state(member),
            conn=conn,
        )
    return member


async def remove_staff(telegram_user_id: int, *, by: str = "cli") -> StaffMember:
    """Take a staff member's role away (the row stays, inactive, for the audit trail): from the
    next update on they are a parent like any other. Refuses `staff_not_found` for a person
    with no active role."""
    async with in_transaction() as conn:
        member = await StaffMember.get_or_none(
            telegram_user_id=telegram_user_id, active=True, using_db=conn
        )
        if member is None:
            raise DomainError(Reason.staff_not_found, telegram_user_id=telegram_user_id)
        before = _state(member)
        member.active = False
        await member.save(using_db=conn, update_fields=["active"])
        await audit.record(
            "staff.removed",
            "staff",
            member.id,
            actor=by,
            before=before,
            after=_state(member),
            conn=conn,
        )
    return member


async def list_staff(*, include_inactive: bool = False) -> list[StaffMember]:
    """Staff members by role, then Telegram id (`indigo staff list`)."""
    query = StaffMember.all() if include_inactive else StaffMember.filter(active=True)
    members = await query.order_by("telegram_user_id")
    order = {StaffRole.superadmin: 0, StaffRole.operator: 1, StaffRole.kindergarten_admin: 2}
    return sorted(members, key=lambda m: (order.get(StaffRole(m.role), 9), m.telegram_user_id))


async def language_of(telegram_user_id: int) -> Language:
    """The language a staff member reads the bot in: the one chosen as a parent, else Russian."""
    applicant = await Applicant.get_or_none(telegram_user_id=telegram_user_id)
    return Language(applicant.language) if applicant else Language.ru


async def bootstrap_superadmins(settings: Settings) -> int:
    """settings.staff_bootstrap_ids become superadmins (existing staff members keep their role)."""
    created = 0
    for telegram_user_id in settings.staff_bootstrap_ids:
        if await StaffMember.exists(telegram_user_id=telegram_user_id):
            continue
        await add_staff(telegram_user_id, StaffRole.superadmin, by="bootstrap")
        created += 1
    return created


def _state(member: StaffMember) -> dict[str, object]:
    return {
        "telegram_user_id": member.telegram_user_id,
        "role": str(member.role),
        "city_id": member.city_id,
        "kindergarten_id": member.kindergarten_id,
        "active": member.active,
    }


async def application_in_scope(staff: StaffMember, application_id: int) -> Application:
    application = await Application.get_or_none(id=application_id)
    if application is None:
        raise DomainError(Reason.application_not_found, application_id=application_id)
    if staff.role == StaffRole.superadmin:
        return application
    if staff.role == StaffRole.operator and application.city_id == staff.city_id:
        return application
    if (
        staff.role == StaffRole.kindergarten_admin
        and await ApplicationChoice.filter(
            application_id=application.id, kindergarten_id=staff.kindergarten_id
        ).exists()
    ):
        return application
    raise DomainError(Reason.out_of_scope, application_id=application_id)


async def referral_in_scope(staff: StaffMember, number: str) -> Referral:
    """A referral by its public number ("#123" or "123"), if the staff member may act on it."""
    referral = await Referral.get_or_none(number=number.strip().lstrip("#"))
    if referral is None:
        raise DomainError(Reason.referral_not_found, number=number)
    check_scope(staff, await Kindergarten.get(id=referral.kindergarten_id))
    return referral


async def release_summary(release_id: int) -> dict[str, object]:
    """What a release did: seats, addressees notified, priority end (for the staff reply)."""
    release = await SeatRelease.get(id=release_id)
    return {
        "seats": release.seats,
        "addressees": await Offer.filter(release_id=release_id).count(),
        "priority_end_at": release.priority_end_at,
    }
