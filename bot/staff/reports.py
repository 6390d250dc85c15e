"""What staff read: /stats (the open-data figures), /protocol (the seat release and referral
registers) and /broadcasts (the recent broadcasts with their progress)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, User
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from bot.staff import complaints, texts
from bot.texts.formats import esc
from bot.texts.labels import language_name
from core.models import StaffMember, StaffRole
from core.notifications import broadcasts
from core.people import staff as staff_service
from core.platform.settings import Settings
from core.views import registers, stats

PROTOCOL_LIMIT = 15


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.reports")
    router.message.register(stats_command, Command("stats"))
    router.message.register(protocol_command, Command("protocol"))
    router.message.register(broadcasts_list, Command("broadcasts"))
    return router


async def stats_command(message: Message, staff: StaffMember) -> None:
    """The open-data figures of the staff member's city (an operator's, or a kindergarten
    admin's kindergarten's city), or of the whole country for a superadmin."""
    figures = await stats.open_data(await staff_service.city_of(staff))
    locale = texts.locale(message.from_user)

    def n(value: int) -> str:
        return format_decimal(value, locale=locale)

    await message.answer(
        _(
            "<b>Open data</b>\n"
            "Kindergartens: {kindergartens}\n"
            "Free seats: {free}\n"
            "Applications in the queue: {queued}\n"
            "Enrolled in 5 days: {enrolled}\n"
            "Dismissed in 5 days: {dismissed}\n"
            "Referrals issued: {referrals} (in 5 days: {referrals_5})"
        ).format(
            kindergartens=n(figures.kindergartens),
            free=n(figures.free_seats),
            queued=n(figures.queued_applications),
            enrolled=n(figures.enrolled_5_days),
            dismissed=n(figures.dismissed_5_days),
            referrals=n(figures.referrals_issued),
            referrals_5=n(figures.referrals_issued_5_days),
        )
    )
    if complaints.may_read(staff):
        await message.answer(await complaints.figures_text(staff, locale))


async def protocol_command(
    message: Message, command: CommandObject, staff: StaffMember, settings: Settings
) -> None:
    kind, _sep, rest = (command.args or "").strip().partition(" ")
    filters = dict(part.split("=", 1) for part in rest.split() if "=" in part)
    city_id = staff.city_id if staff.role == StaffRole.operator else None
    kg_id = staff.kindergarten_id if staff.role == StaffRole.kindergarten_admin else None
    try:
        common: dict[str, Any] = {
            "day": datetime.fromisoformat(filters["date"]).date() if "date" in filters else None,
            "city_id": city_id,
            "kindergarten_id": kg_id,
            "language": filters.get("language"),
        }
    except ValueError:
        await message.answer(_("I did not understand the filters. Please check them."))
        return
    user = message.from_user
    if kind == "seats":
        lines = await _seat_protocol(common, user, settings)
    elif kind == "referrals":
        lines = await _referral_protocol(common, filters.get("status"), user, settings)
    else:
        await message.answer(_("Usage: /protocol seats or /protocol referrals [date=YYYY-MM-DD]"))
        return
    await message.answer("\n\n".join(lines))


async def broadcasts_list(message: Message, staff: StaffMember, settings: Settings) -> None:
    recent = await broadcasts.recent(staff)
    if not recent:
        await message.answer(_("No broadcasts yet."))
        return
    lines = [
        _(
            "#{id} {when} ({status}): sent {sent}, failed {failed}, blocked {blocked}, "
            "remaining {remaining} of {total}"
        ).format(
            id=b.id,
            when=texts.when(b.created_at, message.from_user, settings),
            status=_("cancelled") if p.status == "cancelled" else texts.broadcast_status(p.status),
            sent=p.sent,
            failed=p.failed + p.unknown,
            blocked=p.blocked,
            remaining=p.remaining,
            total=p.total,
        )
        for b, p in recent
    ]
    await message.answer("\n".join(lines))


# --- the registers --------------------------------------------------------------------------


async def _seat_protocol(
    common: dict[str, Any], user: User | None, settings: Settings
) -> list[str]:
    page = await registers.seat_protocol(
        registers.SeatFilter(**common), settings.tz, limit=PROTOCOL_LIMIT
    )
    lines = [_("<b>Seat release protocol</b> (found: {total})").format(total=page.total)]
    for row in page.rows:
        # A release without a window ends its priority the moment it starts: say so, not
        # "priority until" the release time itself.
        lines.append(
            (
                _(
                    "{kindergarten}, {group} ({age_from}–{age_to}, {language}): "
                    "{seats} seat(s), open to general access at once"
                )
                if row.priority_end_at <= row.released_at
                else _(
                    "{kindergarten}, {group} ({age_from}–{age_to}, {language}): "
                    "{seats} seat(s), priority until {deadline}"
                )
            ).format(
                kindergarten=esc(texts.pick(row.kindergarten_ru, row.kindergarten_kk, user)),
                group=esc(row.group),
                age_from=row.age_from,
                age_to=row.age_to,
                language=language_name(row.language),
                seats=row.seats,
                deadline=texts.when(row.priority_end_at, user, settings),
            )
        )
    return lines


async def _referral_protocol(
    common: dict[str, Any], status: str | None, user: User | None, settings: Settings
) -> list[str]:
    page = await registers.referral_protocol(
        registers.ReferralFilter(status=status, **common), settings.tz, limit=PROTOCOL_LIMIT
    )
    lines = [_("<b>Referral protocol</b> (found: {total})").format(total=page.total)]
    for row in page.rows:
        lines.append(
            _(
                "#{number} from {issued} to {expires}, {child}, {kindergarten}, {group}: {status}"
            ).format(
                number=row.number,
                issued=texts.when(row.issued_at, user, settings),
                expires=texts.when(row.expires_at, user, settings) if row.expires_at else "—",
                child=esc(row.child),
                kindergarten=esc(texts.pick(row.kindergarten_ru, row.kindergarten_kk, user)),
                group=esc(row.group),
                status=texts.referral_status(row.status),
            )
        )
    return lines


def _kindergarten(name_ru: str, name_kk: str, user: User | None) -> str:
    return esc(texts.pick(name_ru, name_kk, user))
