"""Staff commands: /release, /broadcast, /broadcasts, /benefits, /enroll, /revoke, /stats,
/protocol. Only for staff members (core.staff), refused politely to everybody else; every
action names the staff member as the audit actor ("staff:<id>") and checks the scope.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime
from babel.numbers import format_decimal

from bot.texts.labels import benefit_name, group_label, language_name
from core.models import StaffMember, StaffRole
from core.notifications import broadcasts
from core.people import staff as staff_service
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings, get_settings
from core.seats.releases import priority_end_at
from core.views import registers, stats

log = logging.getLogger(__name__)

router = Router(name=__name__)


class _AnswerIfUnanswered(CallbackAnswerMiddleware):
    """Staff buttons answer their presses themselves (often with an alert); the automatic
    answer the composition root adds to plain routers then comes second and Telegram refuses
    it ("query is too old"), which turned every staff button into "something went wrong".
    Registered here, it keeps the composition root from adding the strict one."""

    async def answer(self, event: CallbackQuery, callback_answer: CallbackAnswer) -> None:
        try:
            await super().answer(event, callback_answer)
        except TelegramBadRequest as exc:
            if "query is too old" not in exc.message and "query id is invalid" not in exc.message:
                raise


router.callback_query.middleware(_AnswerIfUnanswered())

STAFF_COMMANDS = (
    "release",
    "broadcast",
    "broadcasts",
    "benefits",
    "enroll",
    "revoke",
    "stats",
    "protocol",
)
BABEL = {"kk": "kk_KZ", "ru": "ru_RU"}


class IsStaff(Filter):
    """Passes staff members and hands the StaffMember to the handler as `staff`."""

    async def __call__(self, event: Any, event_from_user: User | None = None) -> bool | dict:
        member = await staff_service.staff_for(event_from_user.id if event_from_user else None)
        return {"staff": member} if member else False


class ReleaseCb(CallbackData, prefix="srel"):
    step: str  # kg, grp, cnt, win, ok, no
    kg: int = 0
    grp: int = 0
    cnt: int = 0
    days: int = -1  # -1: the configured window


class BroadcastCb(CallbackData, prefix="sbc"):
    action: str  # ok, no, aud (back to the audience screen)


class AudienceCb(CallbackData, prefix="sba"):
    action: str  # open (a filter's choices), set, home (the audience screen), done
    key: str = ""  # one of core.broadcasts.AUDIENCE_KEYS
    value: str = ""  # "" clears the filter


class BenefitCb(CallbackData, prefix="sben"):
    action: str  # ok, no
    application: int


class BroadcastForm(StatesGroup):
    text_kk = State()
    text_ru = State()
    audience = State()
    kindergarten = State()  # the kindergarten list is open: a text searches it
    confirm = State()


class RejectForm(StatesGroup):
    reason = State()


# --- refusal for everybody else -----------------------------------------------------------------


@router.message(Command(*STAFF_COMMANDS), ~IsStaff())
async def not_staff(message: Message) -> None:
    await message.answer(
        _(
            "Sorry, this command is only for employees of education departments and "
            "kindergartens. Press /start for the main menu."
        )
    )


@router.callback_query(
    F.data.startswith(("srel:", "sbc:", "sba:", "sben:")),
    ~IsStaff(),
)
async def not_staff_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is only for staff."), show_alert=True)


# --- /release -----------------------------------------------------------------------------------


RELEASE_LIST_LIMIT = 30


@router.message(Command("release"), IsStaff())
async def release_start(message: Message, command: CommandObject, staff: StaffMember) -> None:
    if staff.role == StaffRole.kindergarten_admin and staff.kindergarten_id:
        await _show_groups(message, staff, staff.kindergarten_id, edit=False)
        return
    search = (command.args or "").strip()
    kindergartens = await staff_service.kindergartens_in_scope(
        staff, limit=RELEASE_LIST_LIMIT + 1, search=search
    )
    if not kindergartens:
        await message.answer(
            _("No kindergarten in your scope matches this.")
            if search
            else _("There are no kindergartens in your scope.")
        )
        return
    more = len(kindergartens) > RELEASE_LIST_LIMIT
    kindergartens = kindergartens[:RELEASE_LIST_LIMIT]
    rows = [
        [
            InlineKeyboardButton(
                text=_name(kg, message.from_user),
                callback_data=ReleaseCb(step="kg", kg=kg.id).pack(),
            )
        ]
        for kg in kindergartens
    ]
    text = _("Release seats. Choose the kindergarten:")
    if more:
        text += "\n" + _(
            "Only the first {count} are shown: send /release and a part of the name or the "
            "kindergarten's number to find another one."
        ).format(count=RELEASE_LIST_LIMIT)
    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(ReleaseCb.filter(F.step == "kg"), IsStaff())
async def release_kindergarten(
    query: CallbackQuery, callback_data: ReleaseCb, staff: StaffMember
) -> None:
    await _guard(query, _show_groups(query.message, staff, callback_data.kg, edit=True))


async def _show_groups(
    message: Any, staff: StaffMember, kindergarten_id: int, *, edit: bool
) -> None:
    groups = await staff_service.groups_in_scope(staff, kindergarten_id)
    if not groups:
        await message.answer(_("This kindergarten has no groups."))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=group_label(g.name, g.birth_year, str(g.language), str(g.kind)),
                callback_data=ReleaseCb(step="grp", kg=kindergarten_id, grp=g.id).pack(),
            )
        ]
        for g in groups
    ]
    text = _("Choose the group:")
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


@router.callback_query(ReleaseCb.filter(F.step == "grp"), IsStaff())
async def release_group(query: CallbackQuery, callback_data: ReleaseCb, staff: StaffMember) -> None:
    async def body() -> None:
        await staff_service.group_in_scope(staff, callback_data.grp)
        buttons = [
            InlineKeyboardButton(
                text=str(n),
                callback_data=ReleaseCb(
                    step="cnt", kg=callback_data.kg, grp=callback_data.grp, cnt=n
                ).pack(),
            )
            for n in (1, 2, 3, 4, 5, 10)
        ]
        await query.message.edit_text(
            _("How many seats are free?"),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons[:3], buttons[3:]]),
        )

    await _guard(query, body())


@router.callback_query(ReleaseCb.filter(F.step == "cnt"), IsStaff())
async def release_count(query: CallbackQuery, callback_data: ReleaseCb, staff: StaffMember) -> None:
    def option(days: int, label: str) -> list[InlineKeyboardButton]:
        data = callback_data.model_copy(update={"step": "win", "days": days})
        return [InlineKeyboardButton(text=label, callback_data=data.pack())]

    await query.message.edit_text(
        _("Priority window for the first applications in the queue:"),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                option(-1, _("As configured")),
                option(1, _("1 day")),
                option(3, _("3 days")),
                option(0, _("None: open to general access at once")),
            ]
        ),
    )
    await query.answer()


@router.callback_query(ReleaseCb.filter(F.step == "win"), IsStaff())
async def release_window(
    query: CallbackQuery,
    callback_data: ReleaseCb,
    staff: StaffMember,
    settings: Settings | None = None,
) -> None:
    async def body() -> None:
        group = await staff_service.group_in_scope(staff, callback_data.grp)
        kindergarten = await staff_service.kindergarten_in_scope(staff, group.kindergarten_id)
        end = priority_end_at(clock.now(), settings or get_settings(), _window(callback_data))
        # "None" chosen: no first-in-queue window to announce, the seats are open at once.
        text = (
            _(
                "Without a priority window, release {count} seat(s) in {kindergarten}, group: "
                "{group}?\nEvery parent in this queue may take the seats at once."
            )
            if callback_data.days == 0
            else _(
                "Release {count} seat(s) in {kindergarten}, group: {group}?\n"
                "The first applications in the queue are notified at once; only they may take the "
                "seats until {deadline}."
            )
        ).format(
            count=callback_data.cnt,
            kindergarten=html.escape(_name(kindergarten, query.from_user)),
            group=html.escape(
                group_label(group.name, group.birth_year, str(group.language), str(group.kind))
            ),
            deadline=_when(end, query.from_user, settings),
        )
        yes = callback_data.model_copy(update={"step": "ok"})
        no = callback_data.model_copy(update={"step": "no"})
        await query.message.edit_text(
            text,
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text=_("Release"), callback_data=yes.pack()),
                        InlineKeyboardButton(text=_("Cancel"), callback_data=no.pack()),
                    ]
                ]
            ),
        )

    await _guard(query, body())


@router.callback_query(ReleaseCb.filter(F.step == "no"), IsStaff())
async def release_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(_("Cancelled."))
    await query.answer()


@router.callback_query(ReleaseCb.filter(F.step == "ok"), IsStaff())
async def release_confirm(
    query: CallbackQuery,
    callback_data: ReleaseCb,
    staff: StaffMember,
    settings: Settings | None = None,
) -> None:
    async def body() -> None:
        from core.seats.releases import release_seats

        settings_ = settings or get_settings()
        await staff_service.group_in_scope(staff, callback_data.grp)
        release = await release_seats(
            callback_data.grp,
            callback_data.cnt,
            actor=staff_service.actor(staff),
            settings=settings_,
            window=_window(callback_data),
        )
        summary = await staff_service.release_summary(release.id)
        await query.message.edit_text(
            (
                _(
                    "Seats released without a priority window: {seats}. Parents notified: "
                    "{addressees}. Every parent in the queue may take them at once."
                )
                if callback_data.days == 0
                else _(
                    "Released {seats} seat(s). Parents notified: {addressees}. "
                    "Priority until {deadline}."
                )
            ).format(
                seats=summary["seats"],
                addressees=summary["addressees"],
                deadline=_when(summary["priority_end_at"], query.from_user, settings_),
            )
        )

    await _guard(query, body())


def _window(data: ReleaseCb) -> timedelta | None:
    return None if data.days < 0 else timedelta(days=data.days)


# --- /broadcast ---------------------------------------------------------------------------------


@router.message(Command("broadcast"), IsStaff())
async def broadcast_start(
    message: Message, command: CommandObject, staff: StaffMember, state: FSMContext
) -> None:
    argument = (command.args or "").strip().lower()
    if argument in ("stop", "pause"):
        paused = await broadcasts.pause(staff)
        await message.answer(
            _("Broadcast #{id} is paused. /broadcast resume continues it.").format(id=paused.id)
            if paused
            else _("No broadcast is running.")
        )
        return
    if argument == "resume":
        resumed = await broadcasts.resume(staff)
        await message.answer(
            _("Broadcast #{id} continues.").format(id=resumed.id)
            if resumed
            else _("No broadcast is paused.")
        )
        return
    await state.set_state(BroadcastForm.text_kk)
    await message.answer(_("New broadcast. Send the text in Kazakh (/cancel to stop)."))


_TEXT = F.text & ~F.text.startswith("/")  # commands (/cancel, /start) are not broadcast text


@router.message(BroadcastForm.text_kk, _TEXT, IsStaff())
async def broadcast_text_kk(message: Message, state: FSMContext) -> None:
    await state.update_data(text_kk=message.text)
    await state.set_state(BroadcastForm.text_ru)
    await message.answer(_("Now send the text in Russian."))


@router.message(BroadcastForm.text_ru, _TEXT, IsStaff())
async def broadcast_text_ru(message: Message, state: FSMContext, staff: StaffMember) -> None:
    audience = await broadcasts.default_audience(staff)
    await state.update_data(text_ru=message.text, audience=audience)
    await state.set_state(BroadcastForm.audience)
    text, markup = await _audience_screen(staff, audience, message.from_user)
    await message.answer(text, reply_markup=markup)


@router.message(BroadcastForm.audience, _TEXT, IsStaff())
async def broadcast_audience(message: Message, state: FSMContext, staff: StaffMember) -> None:
    """Power users may type the whole audience as one line instead of pressing buttons."""
    audience = _parse_audience(message.text or "")
    if audience is None:
        await message.answer(_("I did not understand the filters. Please check them."))
        return
    try:
        scoped = await broadcasts.scoped_audience(staff, audience)
        count = await broadcasts.count_recipients(scoped)
    except DomainError as exc:
        await message.answer(_error(exc))
        return
    data = await state.update_data(audience=scoped)
    await state.set_state(BroadcastForm.confirm)
    text, markup = _preview(count, data)
    await message.answer(text, reply_markup=markup)


@router.message(BroadcastForm.kindergarten, _TEXT, IsStaff())
async def broadcast_kindergarten_search(
    message: Message, state: FSMContext, staff: StaffMember
) -> None:
    """While the kindergarten list is open, a text is a search by name or number (a typed
    audience line still works)."""
    search = (message.text or "").strip()
    if "=" in search or search.lower() in _ALL_WORDS:
        await broadcast_audience(message, state, staff)
        return
    data = await state.get_data()
    found = await broadcasts.audience_kindergartens(
        staff, data.get("audience") or {}, search=search, limit=AUDIENCE_LIST_LIMIT + 1
    )
    if not found:
        await message.answer(
            _("No kindergarten in your scope matches this."),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[_back_button()]]),
        )
        return
    text, markup = _kindergarten_choices(found, data.get("audience") or {}, message.from_user)
    await message.answer(text, reply_markup=markup)


@router.callback_query(AudienceCb.filter(F.action == "open"), IsStaff())
async def audience_open(
    query: CallbackQuery, callback_data: AudienceCb, staff: StaffMember, state: FSMContext
) -> None:
    audience = await _audience_in_progress(query, state)
    if audience is None:
        return
    key, user = callback_data.key, query.from_user
    if key == "city":
        if staff.role != StaffRole.superadmin:
            await query.answer(_("Your role fixes the city."), show_alert=True)
            return
        cities = await broadcasts.cities_in_scope(staff)
        options = [(c.code, _pick(c.name_ru, c.name_kk, user)) for c in cities]
        text, markup = _choices(_("Choose the city:"), key, options, audience.get(key))
    elif key == "kindergarten":
        if staff.role == StaffRole.kindergarten_admin:
            await query.answer(_("Your role fixes the kindergarten."), show_alert=True)
            return
        found = await broadcasts.audience_kindergartens(
            staff, audience, limit=AUDIENCE_LIST_LIMIT + 1
        )
        text, markup = _kindergarten_choices(found, audience, user)
        await state.set_state(BroadcastForm.kindergarten)
    elif key == "birth_year":
        years = await broadcasts.birth_years(staff, audience)
        options = [(str(y), str(y)) for y in years]
        text, markup = _choices(
            _("Choose the children's year of birth:"), key, options, audience.get(key), width=4
        )
    elif key in broadcasts.CHOICES:
        prompts = {
            "language": _("Choose the parents' language:"),
            "queue_type": _("Choose the queue:"),
            "status": _("Choose the status of the applications:"),
        }
        options = [(v, _filter_value(key, v)) for v in broadcasts.CHOICES[key]]
        text, markup = _choices(prompts[key], key, options, audience.get(key))
    else:
        await query.answer()
        return
    await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


@router.callback_query(AudienceCb.filter(F.action == "set"), IsStaff())
async def audience_set(
    query: CallbackQuery, callback_data: AudienceCb, staff: StaffMember, state: FSMContext
) -> None:
    audience = await _audience_in_progress(query, state)
    if audience is None:
        return
    try:
        audience = await broadcasts.audience_with(
            staff, audience, callback_data.key, callback_data.value
        )
    except DomainError as exc:
        await query.answer(_error(exc), show_alert=True)
        return
    await state.update_data(audience=audience)
    await _show_audience(query, staff, state, audience)


@router.callback_query(AudienceCb.filter(F.action == "home"), IsStaff())
async def audience_home(query: CallbackQuery, staff: StaffMember, state: FSMContext) -> None:
    audience = await _audience_in_progress(query, state)
    if audience is None:
        return
    await _show_audience(query, staff, state, audience)


@router.callback_query(AudienceCb.filter(F.action == "done"), IsStaff())
async def audience_done(query: CallbackQuery, staff: StaffMember, state: FSMContext) -> None:
    audience = await _audience_in_progress(query, state)
    if audience is None:
        return
    try:
        view = await broadcasts.describe_audience(staff, audience)
    except DomainError as exc:
        await query.answer(_error(exc), show_alert=True)
        return
    if view.count == 0:
        await query.answer(_("Nobody matches these filters."), show_alert=True)
        return
    data = await state.update_data(audience=view.audience)
    await state.set_state(BroadcastForm.confirm)
    text, markup = _preview(view.count, data)
    await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


@router.callback_query(BroadcastCb.filter(F.action == "aud"), IsStaff())
async def broadcast_change_audience(
    query: CallbackQuery, staff: StaffMember, state: FSMContext
) -> None:
    data = await state.get_data()
    if await state.get_state() != BroadcastForm.confirm.state or "text_ru" not in data:
        await query.answer(_("This broadcast was already sent or cancelled."), show_alert=True)
        return
    await _show_audience(query, staff, state, data.get("audience") or {})


@router.callback_query(BroadcastCb.filter(F.action == "no"), IsStaff())
async def broadcast_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.message.edit_text(_("Cancelled."))
    await query.answer()


@router.callback_query(BroadcastCb.filter(F.action == "ok"), IsStaff())
async def broadcast_confirm(query: CallbackQuery, state: FSMContext, staff: StaffMember) -> None:
    data = await state.get_data()
    if "text_ru" not in data:
        await query.answer(_("This broadcast was already sent or cancelled."), show_alert=True)
        return
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    progress = await query.message.answer(_("Broadcast: preparing…"))
    try:
        broadcast = await broadcasts.create_broadcast(
            staff,
            data["text_kk"],
            data["text_ru"],
            data.get("audience") or {},
            progress_chat_id=progress.chat.id,
            progress_message_id=progress.message_id,
        )
    except DomainError as exc:
        await progress.edit_text(_error(exc))
        await query.answer()
        return
    await progress.edit_text(
        _(
            "Broadcast #{id}: {total} recipients. Progress appears here; /broadcast stop pauses it."
        ).format(id=broadcast.id, total=broadcast.total)
    )
    await query.answer()


AUDIENCE_LIST_LIMIT = 20
_ALL_WORDS = ("all", "барлығы", "все")


async def _audience_in_progress(query: CallbackQuery, state: FSMContext) -> dict | None:
    """The audience being chosen, or None (and an alert) when this screen is stale."""
    data = await state.get_data()
    current = await state.get_state()
    choosing = (BroadcastForm.audience.state, BroadcastForm.kindergarten.state)
    if current not in choosing or "text_ru" not in data:
        await query.answer(_("This broadcast was already sent or cancelled."), show_alert=True)
        return None
    return data.get("audience") or {}


async def _show_audience(
    query: CallbackQuery, staff: StaffMember, state: FSMContext, audience: dict
) -> None:
    await state.set_state(BroadcastForm.audience)
    try:
        text, markup = await _audience_screen(staff, audience, query.from_user)
    except DomainError as exc:
        await query.answer(_error(exc), show_alert=True)
        return
    await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


async def _audience_screen(
    staff: StaffMember, audience: dict, user: User | None
) -> tuple[str, InlineKeyboardMarkup]:
    """One button per filter showing its value, the live recipient count, Continue/Cancel."""
    view = await broadcasts.describe_audience(staff, audience)
    chosen = view.audience
    everyone = _("all")

    def row(label: str, key: str) -> list[InlineKeyboardButton]:
        data = AudienceCb(action="open", key=key).pack()
        return [InlineKeyboardButton(text=label, callback_data=data)]

    city = _pick(view.city.name_ru, view.city.name_kk, user) if view.city else everyone
    kindergarten = _name(view.kindergarten, user) if view.kindergarten else everyone
    year = str(chosen["birth_year"]) if chosen.get("birth_year") else everyone
    rows = [
        row(_("City: {value}").format(value=city), "city"),
        row(_("Kindergarten: {value}").format(value=kindergarten), "kindergarten"),
        row(_("Year of birth: {value}").format(value=year), "birth_year"),
        row(
            _("Language: {value}").format(value=_filter_value("language", chosen.get("language"))),
            "language",
        ),
        row(
            _("Queue: {value}").format(value=_filter_value("queue_type", chosen.get("queue_type"))),
            "queue_type",
        ),
        row(
            _("Status: {value}").format(value=_filter_value("status", chosen.get("status"))),
            "status",
        ),
        [
            InlineKeyboardButton(
                text=_("Continue"), callback_data=AudienceCb(action="done").pack()
            ),
            InlineKeyboardButton(text=_("Cancel"), callback_data=BroadcastCb(action="no").pack()),
        ],
    ]
    text = _(
        "Who receives it? Press a filter to change it, then “Continue”.\n"
        "Recipients now: <b>{count}</b>\n\n"
        "Or send all the filters in one line: <code>all</code> or "
        "<code>kindergarten=12 birth_year=2021 language=kk queue_type=general status=active</code>"
    ).format(count=format_decimal(view.count, locale=_locale(user)))
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _filter_value(key: str, value: str | None) -> str:
    """The shown value of the language, queue and status filters ("all" when not set)."""
    labels = {
        "language": {"kk": lambda: _("in Kazakh"), "ru": lambda: _("in Russian")},
        "queue_type": {"general": lambda: _("general"), "correctional": lambda: _("correctional")},
        "status": {"active": lambda: _("active"), "stop_listed": lambda: _("in the stop-list")},
    }
    factory = labels.get(key, {}).get(str(value)) if value else None
    return factory() if factory else (str(value) if value else _("all"))


def _back_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("Back"), callback_data=AudienceCb(action="home").pack())


def _choices(
    prompt: str,
    key: str,
    options: list[tuple[str, str]],
    current: Any,
    *,
    width: int = 1,
) -> tuple[str, InlineKeyboardMarkup]:
    """A filter's choices: "all" first, the current one ticked, and Back."""
    current = "" if current is None else str(current)

    def button(value: str, label: str) -> InlineKeyboardButton:
        mark = "✓ " if value == current else ""
        data = AudienceCb(action="set", key=key, value=value).pack()
        return InlineKeyboardButton(text=mark + label, callback_data=data)

    buttons = [button(value, label) for value, label in options]
    rows = [[button("", _("all"))]]
    rows += [buttons[i : i + width] for i in range(0, len(buttons), width)]
    rows.append([_back_button()])
    return prompt, InlineKeyboardMarkup(inline_keyboard=rows)


def _kindergarten_choices(
    found: list[Any], audience: dict, user: User | None
) -> tuple[str, InlineKeyboardMarkup]:
    more = len(found) > AUDIENCE_LIST_LIMIT
    options = [(str(kg.id), _name(kg, user)) for kg in found[:AUDIENCE_LIST_LIMIT]]
    text = _("Choose the kindergarten or send a part of its name or its number to find it:")
    if more:
        text += "\n" + _("Only the first {count} are shown.").format(count=AUDIENCE_LIST_LIMIT)
    return _choices(text, "kindergarten", options, audience.get("kindergarten"))


def _preview(count: int, data: dict) -> tuple[str, InlineKeyboardMarkup]:
    text = _("Recipients: {count}.\n\nKazakh:\n{kk}\n\nRussian:\n{ru}").format(
        count=count, kk=html.escape(data["text_kk"]), ru=html.escape(data["text_ru"])
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("Send"), callback_data=BroadcastCb(action="ok").pack()),
                InlineKeyboardButton(
                    text=_("Cancel"), callback_data=BroadcastCb(action="no").pack()
                ),
            ],
            [
                InlineKeyboardButton(
                    text=_("Change the recipients"), callback_data=BroadcastCb(action="aud").pack()
                )
            ],
        ]
    )
    return text, markup


@router.message(Command("broadcasts"), IsStaff())
async def broadcasts_list(message: Message, staff: StaffMember) -> None:
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
            when=_when(b.created_at, message.from_user),
            status=_status(p.status),
            sent=p.sent,
            failed=p.failed + p.unknown,
            blocked=p.blocked,
            remaining=p.remaining,
            total=p.total,
        )
        for b, p in recent
    ]
    await message.answer("\n".join(lines))


# --- /benefits ----------------------------------------------------------------------------------


@router.message(Command("benefits"), IsStaff())
async def benefits_list(message: Message, staff: StaffMember) -> None:
    pending = await staff_service.pending_benefits(staff)
    if not pending:
        await message.answer(_("No benefit documents wait for a decision."))
        return
    for application in pending:
        # The category's name, not its number: staff decide against the document's title.
        text = _("Application #{number}: extraordinary benefit «{benefit}».").format(
            number=application.number, benefit=benefit_name(application.benefit_category)
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Confirm"),
                        callback_data=BenefitCb(action="ok", application=application.id).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("Reject"),
                        callback_data=BenefitCb(action="no", application=application.id).pack(),
                    ),
                ]
            ]
        )
        document = application.benefit_document
        if document is not None and document.telegram_file_id:
            try:
                await message.answer_document(
                    document.telegram_file_id, caption=text, reply_markup=markup
                )
                continue
            except Exception:
                log.warning("benefit document of application %s not sendable", application.id)
        await message.answer(text, reply_markup=markup)


@router.callback_query(BenefitCb.filter(F.action == "ok"), IsStaff())
async def benefit_confirm(
    query: CallbackQuery,
    callback_data: BenefitCb,
    staff: StaffMember,
    settings: Settings | None = None,
) -> None:
    async def body() -> None:
        from core.referrals.benefits import confirm_benefit

        application = await staff_service.application_in_scope(staff, callback_data.application)
        await confirm_benefit(
            application.id, True, actor=staff_service.actor(staff), settings=settings
        )
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("The benefit of application #{number} is confirmed.").format(
                number=application.number
            )
        )

    await _guard(query, body())


@router.callback_query(BenefitCb.filter(F.action == "no"), IsStaff())
async def benefit_reject(
    query: CallbackQuery, callback_data: BenefitCb, staff: StaffMember, state: FSMContext
) -> None:
    async def body() -> None:
        application = await staff_service.application_in_scope(staff, callback_data.application)
        await state.set_state(RejectForm.reason)
        await state.update_data(application_id=application.id, number=application.number)
        await query.message.answer(
            _("Why is the benefit of application #{number} rejected? Send the reason.").format(
                number=application.number
            )
        )

    await _guard(query, body())


@router.message(RejectForm.reason, F.text, IsStaff())
async def benefit_reject_reason(
    message: Message, state: FSMContext, staff: StaffMember, settings: Settings | None = None
) -> None:
    from core.referrals.benefits import confirm_benefit

    data = await state.get_data()
    await state.clear()
    try:
        await staff_service.application_in_scope(staff, data["application_id"])
        await confirm_benefit(
            data["application_id"],
            False,
            (message.text or "").strip()[:200],
            actor=staff_service.actor(staff),
            settings=settings,
        )
    except DomainError as exc:
        await message.answer(_error(exc))
        return
    await message.answer(
        _("The benefit of application #{number} is rejected; the parent is notified.").format(
            number=data["number"]
        )
    )


# --- /enroll, /revoke ---------------------------------------------------------------------------


@router.message(Command("enroll"), IsStaff())
async def enroll_command(message: Message, command: CommandObject, staff: StaffMember) -> None:
    from core.referrals.lifecycle import enroll

    number = (command.args or "").strip()
    if not number:
        await message.answer(_("Usage: /enroll NUMBER (the referral number)"))
        return
    try:
        referral = await staff_service.referral_in_scope(staff, number)
        await enroll(referral.id, actor=staff_service.actor(staff))
    except DomainError as exc:
        await message.answer(_error(exc))
        return
    await message.answer(
        _("Referral #{number}: the child is enrolled.").format(number=referral.number)
    )


@router.message(Command("revoke"), IsStaff())
async def revoke_command(
    message: Message,
    command: CommandObject,
    staff: StaffMember,
    settings: Settings | None = None,
) -> None:
    from core.referrals.lifecycle import revoke

    number, _sep, reason = (command.args or "").strip().partition(" ")
    if not number or not reason.strip():
        await message.answer(_("Usage: /revoke NUMBER REASON (the referral number and why)"))
        return
    try:
        referral = await staff_service.referral_in_scope(staff, number)
        await revoke(
            referral.id, reason.strip(), actor=staff_service.actor(staff), settings=settings
        )
    except DomainError as exc:
        await message.answer(_error(exc))
        return
    await message.answer(
        _("Referral #{number} is revoked; its seat is released again.").format(
            number=referral.number
        )
    )


# --- /stats, /protocol --------------------------------------------------------------------------


@router.message(Command("stats"), IsStaff())
async def stats_command(message: Message, staff: StaffMember) -> None:
    city_id = staff.city_id if staff.role != StaffRole.superadmin else None
    figures = await stats.open_data(city_id)
    locale = _locale(message.from_user)

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


@router.message(Command("protocol"), IsStaff())
async def protocol_command(
    message: Message,
    command: CommandObject,
    staff: StaffMember,
    settings: Settings | None = None,
) -> None:
    settings_ = settings or get_settings()
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
        page = await registers.seat_protocol(registers.SeatFilter(**common), settings_.tz, limit=15)
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
                    kindergarten=html.escape(_pick(row.kindergarten_ru, row.kindergarten_kk, user)),
                    group=html.escape(row.group),
                    age_from=row.age_from,
                    age_to=row.age_to,
                    language=language_name(row.language),
                    seats=row.seats,
                    deadline=_when(row.priority_end_at, user, settings_),
                )
            )
    elif kind == "referrals":
        page = await registers.referral_protocol(
            registers.ReferralFilter(status=filters.get("status"), **common), settings_.tz, limit=15
        )
        lines = [_("<b>Referral protocol</b> (found: {total})").format(total=page.total)]
        for row in page.rows:
            lines.append(
                _(
                    "#{number} from {issued} to {expires}, {child}, {kindergarten}, "
                    "{group}: {status}"
                ).format(
                    number=row.number,
                    issued=_when(row.issued_at, user, settings_),
                    expires=_when(row.expires_at, user, settings_) if row.expires_at else "—",
                    child=html.escape(row.child),
                    kindergarten=html.escape(_pick(row.kindergarten_ru, row.kindergarten_kk, user)),
                    group=html.escape(row.group),
                    status=_referral_status(row.status),
                )
            )
    else:
        await message.answer(_("Usage: /protocol seats or /protocol referrals [date=YYYY-MM-DD]"))
        return
    await message.answer("\n\n".join(lines))


# --- helpers ------------------------------------------------------------------------------------


async def _guard(query: CallbackQuery, body: Any) -> None:
    """Run a button's action; a domain refusal becomes an alert in the staff member's language."""
    try:
        await body
    except DomainError as exc:
        await query.answer(_error(exc), show_alert=True)
        return
    await query.answer()


def _error(exc: DomainError) -> str:
    from bot.texts.reasons import error_text

    return error_text(exc)


def _parse_audience(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if text.lower() in _ALL_WORDS:
        return {}
    audience: dict[str, Any] = {}
    for part in text.split():
        key, sep, value = part.partition("=")
        if not sep or key not in broadcasts.AUDIENCE_KEYS or not value:
            return None
        if key in ("kindergarten", "birth_year"):
            if not value.isdigit():
                return None
            audience[key] = int(value)
        else:
            audience[key] = value
    return audience


def _locale(user: User | None) -> str:
    from aiogram.utils.i18n import get_i18n

    try:
        current = get_i18n().current_locale
    except LookupError:
        current = (user.language_code if user else None) or "ru"
    return BABEL.get(current, "ru_RU")


def _when(moment: datetime, user: User | None, settings: Settings | None = None) -> str:
    tz = (settings or get_settings()).tz
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=tz, locale=_locale(user))


def _pick(ru: str, kk: str, user: User | None) -> str:
    return kk if _locale(user) == "kk_KZ" else ru


def _name(kindergarten: Any, user: User | None) -> str:
    return _pick(kindergarten.name_ru, kindergarten.name_kk, user)


def _status(status: str) -> str:
    return {
        "running": _("sending"),
        "paused": _("paused"),
        "done": _("finished"),
    }.get(status, status)


def _referral_status(status: str) -> str:
    return {
        "awaiting_benefit_confirmation": _("awaiting benefit confirmation"),
        "awaiting_enrollment": _("awaiting enrollment"),
        "enrolled": _("enrolled"),
        "expired": _("expired"),
        "declined": _("declined"),
        "revoked": _("revoked"),
        "annulled": _("annulled"),
    }.get(status, status)
