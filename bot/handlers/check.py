""" "Check the queue" without login: by the child's or the parent's IIN (public data only)."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from bot.keyboards import main_menu
from bot.texts.formats import esc, fmt_datetime
from bot.texts.reasons import error_text, reason_text
from bot.texts.typed import clean_typed
from core.applications.public import (
    PublicApplication,
    count_lookup,
    lookup_number,
    parse_application_number,
    public_lookup,
)
from core.people.iin import InvalidIin, parse_iin
from core.platform import metrics
from core.platform.catalogs import babel_locale
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.queue.places import Position

NUMBER_MARKS = ("#", "№")


class CheckQueue(StatesGroup):
    iin = State()


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(iin_received, CheckQueue.iin, F.text)
    router.message.register(iin_not_text, CheckQueue.iin)
    return router


async def ask_iin(message: Message, state: FSMContext) -> None:
    await state.set_state(CheckQueue.iin)
    await message.answer(
        _("Send the IIN of the child or of the parent (12 digits)."), reply_markup=main_menu()
    )


async def iin_received(
    message: Message, state: FSMContext, settings: Settings, redis: Redis | None = None
) -> None:
    """An IIN (12 characters) or an application number, typed in the check state."""
    text = clean_typed(message.text)
    # "#1289012" / "№1289012" (as the bot prints numbers) is an application number; plain
    # digits are an IIN, so a mistyped IIN still hears which rule it broke.
    if text.startswith(NUMBER_MARKS):
        await show_application_number(message, text, settings, redis=redis)
        return
    try:
        parse_iin(text)
    except InvalidIin as exc:
        await message.answer(reason_text(f"iin_{exc.reason}"))
        return  # stay in the state: the parent corrects the IIN
    if not await _lookup_allowed(message, settings, redis):
        return
    try:
        found = await public_lookup(text, settings, index=redis)  # the position index
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    # Stay in the state: the parent may check another IIN until they choose a menu item.
    if not found:
        await message.answer(
            _("No applications were found for this IIN."), reply_markup=main_menu()
        )
        return
    for application in found:
        await message.answer(render_application(application, settings), reply_markup=main_menu())


async def iin_not_text(message: Message) -> None:
    await message.answer(_("Please send the IIN as text: 12 digits."))


async def show_application_number(
    message: Message, payload: str, settings: Settings, *, redis: Redis | None = None
) -> None:
    """The public status of one application (a /start deep link or a typed number). Anything
    but a plausible number (huge, Arabic-Indic digits, text) is simply not found."""
    number = parse_application_number(clean_typed(payload))
    if number is not None and not await _lookup_allowed(message, settings, redis):
        return
    found = await lookup_number(number, settings, index=redis) if number is not None else None
    if found is None:
        await message.answer(reason_text("application_not_found"), reply_markup=main_menu())
        return
    await message.answer(render_application(found, settings), reply_markup=main_menu())


async def _lookup_allowed(message: Message, settings: Settings, redis: Redis | None) -> bool:
    """Count the look-up for this Telegram user; a polite refusal above the limit."""
    if redis is None or message.from_user is None:
        return True
    try:
        await count_lookup(redis, message.from_user.id, settings)
    except DomainError as exc:
        metrics.PUBLIC_CHECK_REFUSED.inc()
        await message.answer(error_text(exc), reply_markup=main_menu())
        return False
    return True


def render_application(application: PublicApplication, settings: Settings) -> str:
    """The public card: no kindergartens and no queue type (see docs/public-data.md)."""
    locale = babel_locale(get_i18n().current_locale)
    submitted = local_time(application.submitted_at, settings, locale)
    lines = [
        _("<b>Application No. {number}</b>").format(number=application.number),
        _("Child: {name}").format(name=esc(application.child_name)),
    ]
    if application.applicant_name:
        lines.append(_("Applicant: {name}").format(name=esc(application.applicant_name)))
    lines += [
        _("Status: {status}").format(status=status_text(application.status)),
        _("Submitted: {time}").format(time=submitted),
        _("Year of birth: {value}").format(value=application.birth_year),
        _("Benefit class: {benefit}").format(benefit=benefit_text(application.benefit_class)),
    ]
    stop_listed = application.status == "stop_listed"
    if application.position is not None:
        lines.append("")
        lines.append(
            _("<b>In the city queue</b>: {where}").format(
                where=position_text(application.position, stop_listed=stop_listed)
            )
        )
    if stop_listed:
        lines.append("")
        lines.append(
            _(
                "The application is in the stop-list and takes part in no distribution. The "
                "parent can restore it in the personal cabinet: it returns at its original time."
            )
        )
    return "\n".join(lines)


def local_time(moment: datetime, settings: Settings, locale: str) -> str:
    """A moment as the reader writes it, in the service time zone: "1 марта 2024 г., 14:00"."""
    return fmt_datetime(moment, settings.tz, locale)


def position_text(position: Position, *, stop_listed: bool = False) -> str:
    if stop_listed:
        # The place is hypothetical: the application is out of the queue until restored.
        return _("in the stop-list; place after restoring: {place}").format(place=position.place)
    ahead = position.ahead
    priority = ahead.extraordinary + ahead.first_priority
    text = _("place {place} of {total}").format(place=position.place, total=position.total)
    if priority:
        text += "; " + _(
            "ahead with priority: {priority} (extraordinary {extraordinary}, first priority "
            "{first})"
        ).format(priority=priority, extraordinary=ahead.extraordinary, first=ahead.first_priority)
    return text


def status_text(status: str) -> str:
    return {
        "active": _("in the queue"),
        "stop_listed": _("in the stop-list"),
        "archived": _("archived"),
    }.get(status, status)


def benefit_text(benefit_class: str) -> str:
    return {
        "none": _("general queue (no benefit)"),
        "first_priority": _("first priority"),
        "extraordinary": _("extraordinary"),
    }.get(benefit_class, benefit_class)
