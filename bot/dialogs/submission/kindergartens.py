"""Step 2: up to `max_kindergartens` kindergartens (by name, nearest, or the city's list; the
card; the queue language), then when the referral should be issued."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import ChatEvent, DialogManager
from aiogram_dialog.widgets.common import ManagedScroll
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button, ManagedCalendar

from bot.dialogs.common import locale_of, settings_of, today_of
from bot.dialogs.foresight import forecast_text
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission import places
from bot.dialogs.submission.data import ChoiceData, birth_year, choices, the_child
from bot.dialogs.submission.replies import refuse, say
from bot.texts.formats import esc
from bot.texts.labels import language_word, queue_label, referral_mode_text
from bot.texts.reasons import error_text, local_refusal, reason_text
from bot.texts.rows import row_facts
from bot.texts.typed import clean_typed
from core.applications.submission import check_referral_date
from core.foresight import seasons
from core.platform.errors import DomainError

KG_SCROLL = "kg_scroll"  # the results' ScrollingGroup in windows.py


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = locale_of(dialog_manager)
    child = the_child(dialog_manager)
    chosen = choices(dialog_manager)
    settings = settings_of(dialog_manager)
    lines = []
    removable = []
    for rank, choice in enumerate(chosen, start=1):
        card = await places.card(choice["id"], settings)
        name = card.name(locale) if card else "?"
        lines.append(
            f"{rank}. <b>{esc(name)}</b>\n    "
            + esc(queue_label(birth_year(child), choice["language"]))
        )
        removable.append((str(choice["id"]), f"✖ {rank}. {name}"))
    return {
        "child_name": esc(child["name"]),  # from the registry
        "chosen": "\n".join(lines) if lines else _("No kindergarten chosen yet."),
        "removable": removable,
        "count": len(chosen),
        "max": settings.max_kindergartens,
        "can_add": len(chosen) < settings.max_kindergartens,
        "has_choices": bool(chosen),
    }


async def on_remove_choice(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["choices"] = [c for c in choices(manager) if str(c["id"]) != item_id]


async def on_find_by_name(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if await _check_room(manager):
        await manager.switch_to(S.kg_search)


async def on_find_nearby(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if await _check_room(manager):
        await manager.switch_to(S.kg_location)


async def on_list_all(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if await _check_room(manager):
        manager.dialog_data["kg_mode"] = "list"
        await _first_page(manager)
        await manager.switch_to(S.kg_results)


async def on_kg_name(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    query = clean_typed(text)[:64]
    data = manager.dialog_data
    if not await places.search(query, settings_of(manager), data.get("queue_type")):
        # Stay in the search step: the parent types another name at once.
        await refuse(message, manager, places.nothing_found(query))
        return
    data.update(kg_mode="search", kg_query=query)
    await _first_page(manager)
    await manager.switch_to(S.kg_results)


async def on_location(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    location = message.location
    assert location is not None  # the window's MessageInput takes location messages only
    manager.dialog_data.update(kg_mode="near", kg_lat=location.latitude, kg_lon=location.longitude)
    await _first_page(manager)  # the nearest first, whatever page of the list was seen last
    # The location window is the wizard's only reply keyboard; deleting its message does not
    # take the keyboard away, so put the main menu back before the inline windows continue.
    await say(manager, _("📍 Location received."))
    await manager.switch_to(S.kg_results)


async def on_location_back(message: Any, button: Button, manager: DialogManager) -> None:
    await say(manager, _("Back to the kindergartens you chose."))
    await manager.switch_to(S.kindergartens)


async def kg_results_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    locale = locale_of(dialog_manager)
    settings = settings_of(dialog_manager)
    chosen = {c["id"] for c in data.get("choices", [])}
    mode = data.get("kg_mode", "list")
    year = birth_year(the_child(dialog_manager))  # rows count the free seats of this cohort
    if mode == "search":
        found = await places.search(
            data.get("kg_query", ""), settings, data.get("queue_type"), cohort=year
        )
        title = _("Kindergartens found for «{query}»:").format(query=esc(data.get("kg_query", "")))
    elif mode == "near":
        found = await places.nearest(
            data["kg_lat"], data["kg_lon"], settings, data.get("queue_type"), cohort=year
        )
        title = _("Kindergartens nearest to you:")
    else:
        found = await places.all_in_city(settings, data.get("queue_type"), cohort=year)
        title = _("All kindergartens of the city:")
    items = []
    for row in found:
        label = row.name(locale)
        if row.distance_m is not None:
            label = f"{label} · {places.distance_text(row.distance_m, locale)}"
        if row.brief is not None and row_facts(row.brief):  # languages, free seats
            label = f"{label} · {row_facts(row.brief)}"
        if row.id in chosen:
            label = "✅ " + label
        items.append((str(row.id), label))
    return {
        "title": title,
        "items": items,
        "found": bool(items),
        "nothing": not items,
    }


async def on_kg_opened(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["kg_current"] = int(item_id)
    await manager.switch_to(S.kg_card)


async def kg_card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    locale = locale_of(dialog_manager)
    settings = settings_of(dialog_manager)
    year = birth_year(the_child(dialog_manager))
    card = await places.card(dialog_manager.dialog_data.get("kg_current", 0), settings)
    if card is None:
        return {"card": _("This kindergarten was not found."), "queues": []}
    queues = [(lang, "➕ " + queue_label(year, lang)) for lang in card.languages]
    # Issue 17: the chances of a new application in each of its queues, to steer the choice.
    queue_type = str(dialog_manager.dialog_data.get("queue_type") or "general")
    chances = []
    for lang in card.languages:
        forecast = await seasons.choice_forecast(card.id, queue_type, year, lang, settings)
        chances.append(
            _("Chances in the {language} queue: {forecast}").format(
                language=language_word(lang), forecast=forecast_text(forecast)
            )
        )
    return {
        "card": "\n\n".join([card.render(locale, year), "\n".join(chances)]),
        "queues": queues,
    }


async def on_queue_language(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    settings = settings_of(manager)
    chosen = choices(manager)
    kg_id = manager.dialog_data.get("kg_current", 0)
    if any(c["id"] == kg_id for c in chosen):
        await refuse(None, manager, local_refusal("kindergarten_already_chosen"))
        return
    if len(chosen) >= settings.max_kindergartens:
        await refuse(
            None, manager, reason_text("too_many_kindergartens", max=settings.max_kindergartens)
        )
        return
    card = await places.card(kg_id, settings)
    if card is None:
        return
    chosen.append(ChoiceData(id=kg_id, language=item_id, city_id=card.city_id))
    await manager.switch_to(S.kindergartens)


async def on_kindergartens_done(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    if not manager.dialog_data.get("choices"):
        await refuse(None, manager, reason_text("no_kindergartens"))
        return
    await manager.switch_to(S.referral_mode)


async def referral_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return {
        "mode": referral_mode_text(
            data.get("referral_mode", "immediately"),
            data.get("referral_from"),
            locale_of(dialog_manager),
        )
    }


async def on_referral_now(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.update(referral_mode="immediately", referral_from=None)
    await manager.switch_to(S.benefit)


async def on_referral_date(
    event: ChatEvent, widget: ManagedCalendar, manager: DialogManager, day: date
) -> None:
    born = date.fromisoformat(the_child(manager)["birth"])
    try:  # the core's rule (after today, while the child may still get a referral)
        check_referral_date(day, born, today_of(manager), settings_of(manager))
    except DomainError as error:
        await refuse(None, manager, error_text(error))
        return
    manager.dialog_data.update(referral_mode="from_date", referral_from=day.isoformat())
    await manager.switch_to(S.benefit)


async def _first_page(manager: DialogManager) -> None:
    """Each new list (a search, the nearest, the whole city) opens on its first page."""
    scroll = manager.find(KG_SCROLL)
    if isinstance(scroll, ManagedScroll):
        await scroll.set_page(0)


async def _check_room(manager: DialogManager) -> bool:
    settings = settings_of(manager)
    if len(choices(manager)) >= settings.max_kindergartens:
        await refuse(
            None, manager, reason_text("too_many_kindergartens", max=settings.max_kindergartens)
        )
        return False
    return True
