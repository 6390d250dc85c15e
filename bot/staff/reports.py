"""What staff read: /stats (the open-data figures), /protocol (the seat release and referral
registers) and /broadcasts (the broadcasts with their progress). /protocol and /broadcasts are
one message edited in place, a page at a time (◀ 1/4 ▶), like the benefit list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Format
from babel.numbers import format_decimal

from bot.dialogs import foresight
from bot.dialogs.common import Tr, Window, settings_of, start_data
from bot.staff import complaints, texts
from bot.staff.answers import close_with
from bot.staff.context import staff_of, user_of
from bot.staff.states import ReportsSG
from bot.texts.formats import esc
from bot.texts.labels import language_name
from core.models import Broadcast, City, Kindergarten, StaffMember, StaffRole
from core.notifications import broadcasts
from core.people import staff as staff_service
from core.platform.settings import Settings
from core.views import registers, staff_lists, stats

PROTOCOL_PAGE = 10
BROADCASTS_PAGE = 5
EXCERPT_LENGTH = 80


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.reports")
    router.message.register(stats_command, Command("stats"))
    router.message.register(protocol_command, Command("protocol"))
    router.message.register(broadcasts_list, Command("broadcasts"))
    return router


def make_dialog() -> Dialog:
    pages = Row(
        Button(Format("◀"), id="prev", on_click=on_prev, when="has_prev"),
        Button(Format("{page}/{pages}"), id="pages", when="many"),
        Button(Format("▶"), id="next", on_click=on_next, when="has_next"),
    )
    close = Button(Tr("Close"), id="close", on_click=on_close)
    return Dialog(
        Window(Format("{text}"), pages, close, getter=protocol_getter, state=ReportsSG.protocol),
        Window(
            Format("{text}"), pages, close, getter=broadcasts_getter, state=ReportsSG.broadcasts
        ),
    )


async def stats_command(message: Message, staff: StaffMember) -> None:
    """The open-data figures of the staff member's city (an operator's, or a kindergarten
    admin's kindergarten's city), or of the whole country for a superadmin."""
    city = await staff_service.city_of(staff)
    figures = await stats.open_data(city)
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
    await foresight.send_city_chart(message, city)  # issue 17: the city's months as a chart


async def protocol_command(
    message: Message, command: CommandObject, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    """`/protocol seats|referrals [date=YYYY-MM-DD] [language=kk|ru] [status=...]`: the first
    page of the register in the staff member's scope."""
    kind, _sep, rest = (command.args or "").strip().partition(" ")
    filters = dict(part.split("=", 1) for part in rest.split() if "=" in part)
    city_id = staff.city_id if staff.role == StaffRole.operator else None
    kg_id = staff.kindergarten_id if staff.role == StaffRole.kindergarten_admin else None
    try:
        day = datetime.fromisoformat(filters["date"]).date() if "date" in filters else None
    except ValueError:
        await message.answer(_("I did not understand the filters. Please check them."))
        return
    if kind not in ("seats", "referrals"):
        await message.answer(_("Usage: /protocol seats or /protocol referrals [date=YYYY-MM-DD]"))
        return
    await dialog_manager.start(
        ReportsSG.protocol,
        data={
            "kind": kind,
            "day": day.isoformat() if day else None,
            "city_id": city_id,
            "kindergarten_id": kg_id,
            "language": filters.get("language"),
            "status": filters.get("status"),
        },
        mode=StartMode.RESET_STACK,
    )


async def broadcasts_list(
    message: Message, staff: StaffMember, dialog_manager: DialogManager
) -> None:
    """/broadcasts: newest first, a page at a time."""
    _rows, total = await staff_lists.broadcast_page(staff, 0, 1)
    if not total:
        await message.answer(_("No broadcasts yet."))
        return
    await dialog_manager.start(ReportsSG.broadcasts, mode=StartMode.RESET_STACK)


# --- the pages ------------------------------------------------------------------------------


async def protocol_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = start_data(dialog_manager)
    page = int(dialog_manager.dialog_data.get("page", 0))
    common: dict[str, Any] = {
        "day": datetime.fromisoformat(data["day"]).date() if data.get("day") else None,
        "city_id": data.get("city_id"),
        "kindergarten_id": data.get("kindergarten_id"),
        "language": data.get("language"),
    }
    user, settings = user_of(dialog_manager), settings_of(dialog_manager)
    if data["kind"] == "seats":
        total, lines = await _seat_protocol(common, user, settings, page)
    else:
        total, lines = await _referral_protocol(common, data.get("status"), user, settings, page)
    return {"text": "\n\n".join(lines), **_paging(dialog_manager, page, total, PROTOCOL_PAGE)}


async def broadcasts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    page = int(dialog_manager.dialog_data.get("page", 0))
    rows, total = await staff_lists.broadcast_page(staff_of(dialog_manager), page, BROADCASTS_PAGE)
    user, settings = user_of(dialog_manager), settings_of(dialog_manager)
    lines = [_("<b>Broadcasts</b> (found: {total})").format(total=total)]
    for broadcast, author in rows:
        lines.append(await _broadcast_text(broadcast, author, user, settings))
    return {"text": "\n\n".join(lines), **_paging(dialog_manager, page, total, BROADCASTS_PAGE)}


async def on_prev(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = max(int(manager.dialog_data.get("page", 0)) - 1, 0)


async def on_next(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = int(manager.dialog_data.get("page", 0)) + 1


async def on_close(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("Closed."))


def _paging(manager: DialogManager, page: int, total: int, size: int) -> dict[str, Any]:
    pages = max((total + size - 1) // size, 1)
    if page >= pages:  # rows gone meanwhile: the last page
        page = manager.dialog_data["page"] = pages - 1
    return {
        "page": page + 1,
        "pages": pages,
        "many": pages > 1,
        "has_prev": page > 0,
        "has_next": page + 1 < pages,
    }


async def _broadcast_text(
    broadcast: Broadcast, author: StaffMember, user: User | None, settings: Settings
) -> str:
    """#7 · date · author · status, the text's first words, the audience, the counts."""
    p = await broadcasts.progress(broadcast.id)
    status = _("cancelled") if p.status == "cancelled" else texts.broadcast_status(p.status)
    text = texts.pick(broadcast.text_ru, broadcast.text_kk, user)
    excerpt = " ".join(text.split())
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[: EXCERPT_LENGTH - 1].rstrip() + "…"
    return "\n".join(
        (
            _("#{id} · {when} · {author} · {status}").format(
                id=broadcast.id,
                when=texts.when(broadcast.created_at, user, settings),
                author=esc(author.name or f"id {author.telegram_user_id}"),
                status=status,
            ),
            f"«{esc(excerpt)}»",
            _("Audience: {audience}").format(
                audience=esc(await _audience_text(broadcast.audience, user))
            ),
            _(
                "Sent {sent}, failed {failed}, blocked {blocked}, remaining {remaining} of {total}"
            ).format(
                sent=p.sent,
                failed=p.failed + p.unknown,
                blocked=p.blocked,
                remaining=p.remaining,
                total=p.total,
            ),
        )
    )


async def _audience_text(audience: dict[str, Any], user: User | None) -> str:
    """The filters a broadcast was sent with, "everyone" when none."""
    parts: list[str] = []
    if audience.get("city"):
        city = await City.get_or_none(code=audience["city"])
        parts.append(texts.name(city, user) if city else str(audience["city"]))
    if audience.get("kindergarten"):
        kindergarten = await Kindergarten.get_or_none(id=int(audience["kindergarten"]))
        if kindergarten is not None:
            parts.append(texts.name(kindergarten, user))
    if audience.get("birth_year"):
        parts.append(_("Year of birth: {value}").format(value=audience["birth_year"]))
    for key, label in (
        ("language", _("Language: {value}")),
        ("queue_type", _("Queue: {value}")),
        ("status", _("Status: {value}")),
    ):
        if audience.get(key):
            parts.append(label.format(value=texts.filter_value(key, audience[key])))
    return "; ".join(parts) or _("everyone")


# --- the registers --------------------------------------------------------------------------


async def _seat_protocol(
    common: dict[str, Any], user: User | None, settings: Settings, number: int
) -> tuple[int, list[str]]:
    page = await registers.seat_protocol(
        registers.SeatFilter(**common),
        settings.tz,
        limit=PROTOCOL_PAGE,
        offset=number * PROTOCOL_PAGE,
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
    return page.total, lines


async def _referral_protocol(
    common: dict[str, Any], status: str | None, user: User | None, settings: Settings, number: int
) -> tuple[int, list[str]]:
    page = await registers.referral_protocol(
        registers.ReferralFilter(status=status, **common),
        settings.tz,
        limit=PROTOCOL_PAGE,
        offset=number * PROTOCOL_PAGE,
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
    return page.total, lines


def _kindergarten(name_ru: str, name_kk: str, user: User | None) -> str:
    return esc(texts.pick(name_ru, name_kk, user))
