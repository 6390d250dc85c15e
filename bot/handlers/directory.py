""" "Kindergartens": search by name or shared location, paged list, and a card per kindergarten."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from bot.callbacks import PageNo, RowId
from bot.filters import MenuButton
from bot.i18n import N_
from bot.keyboards import main_menu
from bot.texts.formats import esc
from bot.texts.labels import group_label, language_word
from bot.texts.reasons import error_text
from bot.texts.rows import kindergarten_row
from bot.texts.typed import clean_typed
from core.platform.catalogs import babel_locale
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.views import directory

SHOW_ALL = N_("Show all kindergartens")
NEAREST = N_("📍 Nearest to me")
MAIN_MENU = N_("Main menu")


class DirectorySearch(StatesGroup):
    query = State()


class KgPage(CallbackData, prefix="kgp"):
    page: PageNo


class KgCard(CallbackData, prefix="kgc"):
    id: RowId
    page: PageNo = -1  # the list page the card was opened from; -1: the nearest kindergartens


class KgBack(CallbackData, prefix="kgb"):
    page: PageNo  # as KgCard.page


class KgMap(CallbackData, prefix="kgm"):
    id: RowId


def make_router() -> Router:
    router = Router(name=__name__)
    router.message.register(back_to_menu, DirectorySearch.query, MenuButton(MAIN_MENU))
    router.message.register(show_all, DirectorySearch.query, MenuButton(SHOW_ALL))
    router.message.register(by_location, DirectorySearch.query, F.location)
    router.message.register(by_name, DirectorySearch.query, F.text)
    router.callback_query.register(turn_page, KgPage.filter())
    router.callback_query.register(back_to_list, KgBack.filter())
    router.callback_query.register(show_card, KgCard.filter())
    router.callback_query.register(show_on_map, KgMap.filter())
    return router


def search_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_(NEAREST), request_location=True)],
            [KeyboardButton(text=_(SHOW_ALL))],
            [KeyboardButton(text=_(MAIN_MENU))],
        ],
        resize_keyboard=True,
    )


async def ask_search(message: Message, state: FSMContext) -> None:
    await state.set_state(DirectorySearch.query)
    await state.update_data(query="")
    await message.answer(
        _(
            "Type a part of the kindergarten's name, share your location to see the nearest "
            "ones, or show the whole list."
        ),
        reply_markup=search_keyboard(),
    )


async def back_to_menu(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Main menu"), reply_markup=main_menu())


async def show_all(message: Message, state: FSMContext, settings: Settings) -> None:
    await state.update_data(query="")
    await _send_page(message, settings, "", 0)


async def by_location(message: Message, state: FSMContext, settings: Settings) -> None:
    assert message.location is not None
    near = [message.location.latitude, message.location.longitude]
    await state.update_data(near=near)
    await _send_nearest(message, settings, near)


async def _send_nearest(
    message: Message, settings: Settings, near: list[float], *, edit: bool = False
) -> None:
    city_id = await directory.default_city_id(settings)
    found = await directory.nearest(city_id, near[0], near[1], 8) if city_id else []
    if not found:
        await message.answer(_("No kindergartens were found."))
        return
    language = get_i18n().current_locale
    rows = [
        [
            InlineKeyboardButton(
                text=kindergarten_row(kg, language, distance_text(kg.distance_m or 0)),
                callback_data=KgCard(id=kg.id).pack(),
            )
        ]
        for kg in found
    ]
    text = _("Kindergartens nearest to you:")
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def by_name(message: Message, state: FSMContext, settings: Settings) -> None:
    query = clean_typed(message.text)[:64]
    await state.update_data(query=query)
    await _send_page(message, settings, query, 0)


async def turn_page(
    callback: CallbackQuery, callback_data: KgPage, state: FSMContext, settings: Settings
) -> None:
    query = (await state.get_data()).get("query", "")
    if isinstance(callback.message, Message):
        await _send_page(callback.message, settings, query, callback_data.page, edit=True)


async def back_to_list(
    callback: CallbackQuery, callback_data: KgBack, state: FSMContext, settings: Settings
) -> None:
    """The card's Back button: the list it was opened from, in the same message."""
    if not isinstance(callback.message, Message):
        return
    data = await state.get_data()
    if callback_data.page < 0 and data.get("near"):
        await _send_nearest(callback.message, settings, data["near"], edit=True)
    else:
        page = max(callback_data.page, 0)
        await _send_page(callback.message, settings, data.get("query", ""), page, edit=True)


async def show_card(callback: CallbackQuery, callback_data: KgCard) -> None:
    if not isinstance(callback.message, Message):
        return
    try:
        card = await directory.card(callback_data.id)
    except DomainError as exc:
        await callback.message.answer(error_text(exc))
        return
    map_button = InlineKeyboardButton(
        text=_("Show on the map"), callback_data=KgMap(id=card.id).pack()
    )
    back = InlineKeyboardButton(
        text=_("⬅️ Back"), callback_data=KgBack(page=callback_data.page).pack()
    )
    await callback.message.edit_text(
        render_card(card), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[map_button], [back]])
    )


async def show_on_map(callback: CallbackQuery, callback_data: KgMap) -> None:
    try:
        card = await directory.card(callback_data.id)
    except DomainError:
        return
    if isinstance(callback.message, Message):
        language = get_i18n().current_locale
        await callback.message.answer_venue(
            latitude=card.latitude,
            longitude=card.longitude,
            title=card.name(language),
            address=card.address(language) or card.name(language),  # Telegram needs both
        )


async def _send_page(
    message: Message, settings: Settings, query: str, page: int, *, edit: bool = False
) -> None:
    city_id = await directory.default_city_id(settings)
    if city_id is None:
        await message.answer(_("No kindergartens were found."))
        return
    found = await directory.search(city_id, query, page)
    if not found.total:
        await message.answer(
            _("No kindergartens were found for “{query}”. Try another part of the name.").format(
                query=esc(query)
            )
        )
        return
    language = get_i18n().current_locale
    rows = [
        [
            InlineKeyboardButton(
                text=kindergarten_row(kg, language),
                callback_data=KgCard(id=kg.id, page=found.page).pack(),
            )
        ]
        for kg in found.items
    ]
    nav = []
    if found.page > 0:
        nav.append(InlineKeyboardButton(text="◀️", callback_data=KgPage(page=found.page - 1).pack()))
    if found.page + 1 < found.pages:
        nav.append(InlineKeyboardButton(text="▶️", callback_data=KgPage(page=found.page + 1).pack()))
    if nav:
        rows.append(nav)
    text = _("Kindergartens found: {total}. Page {page} of {pages}.").format(
        total=found.total, page=found.page + 1, pages=found.pages
    )
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


def render_card(card: directory.KindergartenCard) -> str:
    language = get_i18n().current_locale
    locale = babel_locale(language)
    ownership = {"state": _("state"), "private": _("private")}.get(card.ownership, card.ownership)
    languages = ", ".join(language_word(x) for x in card.languages)
    cost = (
        _("free of charge")
        if card.monthly_cost == 0
        else _("{amount} tenge a month").format(
            amount=format_decimal(card.monthly_cost, locale=locale)
        )
    )
    lines = [
        f"<b>{esc(card.name(language))}</b>",
        _("Ownership: {ownership}").format(ownership=esc(ownership)),
        _("Languages: {languages}").format(languages=languages),
        _("Address: {address}").format(address=esc(card.address(language))),
        _("Hours: {hours}").format(hours=esc(card.hours)),
        _("Cost: {cost}").format(cost=cost),
        "",
        _("<b>Free seats:</b>"),
    ]
    if card.free_seats:
        for seats in card.free_seats:
            lines.append(
                _("• {group}: {seats}").format(
                    group=esc(
                        group_label(seats.group_name, seats.birth_year, seats.language, seats.kind)
                    ),
                    seats=seats.seats,
                )
            )
    else:
        lines.append(_("no free seats now"))
    lines.append("")
    lines.append(
        _("In the queue: {count} applications").format(
            count=format_decimal(card.queue_size, locale=locale)
        )
    )
    contacts = ", ".join(x for x in (card.phone, card.email) if x)
    if contacts:
        lines.append(_("Contacts: {contacts}").format(contacts=esc(contacts)))
    return "\n".join(lines)


def distance_text(metres: float) -> str:
    locale = babel_locale(get_i18n().current_locale)
    if metres < 1000:
        return _("{distance} m").format(distance=int(round(metres, -1)))
    return _("{distance} km").format(
        distance=format_decimal(round(metres / 1000, 1), locale=locale)
    )
