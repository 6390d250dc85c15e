"""Анкета: the yearly extension questionnaire (6 questions, as in the source documents).

Answers are collected in dialog data (JSON primitives), stored by `core.extension.save_answers`,
and "Продлить заявления (N шт.)" extends each chosen application by one year.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Back,
    Button,
    Cancel,
    Column,
    Group,
    Row,
    ScrollingGroup,
    SwitchTo,
)
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common
from bot.dialogs import extension_options as options
from bot.dialogs.common import Tr, Window, multiselect, multiselect_of, radio, radio_of
from bot.dialogs.states import ExtensionSG
from bot.texts.formats import esc, fmt_date, fmt_datetime, fmt_money
from bot.texts.reasons import error_text
from core.applications import extension
from core.platform import clock
from core.platform.errors import DomainError
from core.views import cabinet

# --- intro ----------------------------------------------------------------------------------


async def intro_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    stored = await cabinet.latest_answers(common.applicant_id(dialog_manager))
    settings = common.settings_of(dialog_manager)
    today = common.today_of(dialog_manager)
    is_open = extension.campaign_open(settings, today)
    closed_note = ""
    if not is_open:
        # Outside the campaign the answers cannot extend anything: say when it opens instead of
        # letting the parent fill in six questions for a refusal at the end.
        opens, deadline = extension.campaign_window(settings, today.year)
        if today > deadline:
            opens, deadline = extension.campaign_window(settings, today.year + 1)
        closed_note = _(
            "Applications are extended once a year, from {opens} to {deadline}. The "
            "questionnaire opens on {opens}; until then there is nothing to fill in, and your "
            "applications stay in the queue until their validity date."
        ).format(
            opens=fmt_date(opens, common.locale_of(dialog_manager)),
            deadline=fmt_date(deadline, common.locale_of(dialog_manager)),
        )
    return {"has_answers": stored is not None, "campaign_open": is_open, "closed_note": closed_note}


async def on_fill(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data.clear()
    for widget_id in ("kgs", "acts", "digi", "apps_ms"):
        # aiogram-dialog 2.6 leaves ManagedMultiselect.reset_checked unannotated
        await multiselect_of(manager, widget_id).reset_checked()  # type: ignore[no-untyped-call]
    await manager.switch_to(ExtensionSG.kindergartens)


# --- question 1: desired kindergartens ------------------------------------------------------


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    options = await cabinet.kindergarten_options(common.applicant_id(dialog_manager))
    items = [(str(o.id), common.localized(dialog_manager, o.name_ru, o.name_kk)) for o in options]
    chosen = len(multiselect_of(dialog_manager, "kgs").get_checked())
    return {"items": items, "chosen": chosen, "can_next": 1 <= chosen <= 3}


# --- question 2..4 --------------------------------------------------------------------------


async def ownership_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    own = radio_of(dialog_manager, "own").get_checked()
    why = bool(multiselect_of(dialog_manager, "why").get_checked()) or own == "any"
    return {
        "ownership": options.items(options.OWNERSHIP, "ownership"),
        "reasons": options.items(options.OWNERSHIP_REASONS, "ownership_why"),
        "can_next": bool(own and why),
    }


async def language_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        "languages": options.items(options.LANGUAGES, "language"),
        "can_next": bool(radio_of(dialog_manager, "lang").get_checked()),
    }


async def payment_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    amounts = [int(v) for v in options.codes("max_payment", [str(p) for p in options.PAYMENTS])]
    items = [
        (
            str(a),
            _("up to {amount} ₸").format(amount=fmt_money(a, common.locale_of(dialog_manager))),
        )
        for a in amounts
    ]
    return {"payments": items, "can_next": bool(radio_of(dialog_manager, "pay").get_checked())}


# --- questions 5 and 6: multi-select with Other ---------------------------------------------


async def activities_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        "activities": options.items(options.ACTIVITIES, "activities"),
        "other": dialog_manager.dialog_data.get("activities_other", ""),
    }


async def digital_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        "digital": options.items(options.DIGITAL, "digital"),
        "other": dialog_manager.dialog_data.get("digital_other", ""),
    }


async def on_activities_next(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    if multiselect_of(manager, "acts").is_checked("other") and not manager.dialog_data.get(
        "activities_other"
    ):
        await manager.switch_to(ExtensionSG.activities_other)
    else:
        await manager.switch_to(ExtensionSG.digital)


async def on_digital_next(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    if multiselect_of(manager, "digi").is_checked("other") and not manager.dialog_data.get(
        "digital_other"
    ):
        await manager.switch_to(ExtensionSG.digital_other)
    else:
        await manager.switch_to(ExtensionSG.extend)


async def on_activities_other(
    message: Message, widget: Any, manager: DialogManager, text: str
) -> None:
    manager.dialog_data["activities_other"] = text.strip()[:200]
    await manager.switch_to(ExtensionSG.digital)


async def on_digital_other(
    message: Message, widget: Any, manager: DialogManager, text: str
) -> None:
    manager.dialog_data["digital_other"] = text.strip()[:200]
    await manager.switch_to(ExtensionSG.extend)


async def on_not_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(_("Please type the answer as text."))


# --- extend ---------------------------------------------------------------------------------


async def extend_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    rows = await extension.extendable(common.applicant_id(m), common.settings_of(m))
    items = [
        (
            str(row.application_id),
            _("№{number} · valid until {date}").format(
                number=row.number, date=fmt_date(row.valid_until, common.locale_of(m))
            )
            + (" · " + _("extended") if row.extended else ""),
        )
        for row in rows
    ]
    count = len(multiselect_of(m, "apps_ms").get_checked())
    return {"apps": items, "count": count, "no_apps": not items, "can_extend": count > 0}


def _other(manager: DialogManager, widget_id: str, key: str) -> str:
    if not multiselect_of(manager, widget_id).is_checked("other"):
        return ""
    return str(manager.dialog_data.get(key, ""))


def collect_answers(manager: DialogManager) -> dict[str, Any]:
    """The questionnaire as stored: codes and numbers only (labels are translated on display)."""
    return {
        "kindergartens": [int(i) for i in multiselect_of(manager, "kgs").get_checked()],
        "ownership": radio_of(manager, "own").get_checked(),
        "ownership_why": list(multiselect_of(manager, "why").get_checked()),
        "language": radio_of(manager, "lang").get_checked(),
        "max_payment": radio_of(manager, "pay").get_checked(),
        "activities": [c for c in multiselect_of(manager, "acts").get_checked() if c != "other"],
        "activities_other": _other(manager, "acts", "activities_other"),
        "digital": [c for c in multiselect_of(manager, "digi").get_checked() if c != "other"],
        "digital_other": _other(manager, "digi", "digital_other"),
    }


async def on_extend(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    applicant_id = common.applicant_id(manager)
    settings = common.settings_of(manager)
    ids = [int(n) for n in multiselect_of(manager, "apps_ms").get_checked()]
    season = clock.now().astimezone(settings.tz).year
    try:
        await extension.save_answers(
            applicant_id, collect_answers(manager), season=season, settings=settings
        )
        await extension.extend_applications(
            applicant_id, ids, actor=f"applicant:{applicant_id}", settings=settings
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        return
    manager.dialog_data["extended"] = len(ids)
    await manager.switch_to(ExtensionSG.done)


# --- view -----------------------------------------------------------------------------------


async def view_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    stored = await cabinet.latest_answers(common.applicant_id(m))
    if stored is None:
        return {"view_text": _("You have not filled in the questionnaire yet.")}
    a = stored.answers
    names = await cabinet.kindergarten_names([int(i) for i in a.get("kindergartens", [])])
    kgs = [
        esc(common.localized(m, *names[i]))
        for i in map(int, a.get("kindergartens", []))
        if i in names
    ]

    def many(table: dict[str, Any], codes: list[str], other: str) -> str:
        labels = [options.label(table, c) for c in codes if c != "other"]
        if other:
            labels.append(other)
        # The "other" answer is typed by the parent (and a stored code may be anything).
        return esc(", ".join(labels)) or "—"

    lines = [
        _("Questionnaire of {date}").format(
            date=fmt_datetime(stored.created_at, common.tz_of(m), common.locale_of(m))
        ),
        "",
        _("1. Expected kindergartens: {value}").format(value=", ".join(kgs) or "—"),
        _("2. Ownership preference: {value}; why: {why}").format(
            value=esc(options.label(options.OWNERSHIP, a.get("ownership") or "")),
            why=esc(
                ", ".join(
                    options.label(options.OWNERSHIP_REASONS, c) for c in a.get("ownership_why", [])
                )
            )
            or "—",
        ),
        _("3. Teaching language: {value}").format(
            value=esc(options.label(options.LANGUAGES, a.get("language") or ""))
        ),
        _("4. Maximum monthly payment: up to {amount} ₸").format(
            amount=fmt_money(int(a.get("max_payment") or 0), common.locale_of(m))
        ),
        _("5. Extra activities: {value}").format(
            value=many(options.ACTIVITIES, a.get("activities", []), a.get("activities_other", ""))
        ),
        _("6. Digital services: {value}").format(
            value=many(options.DIGITAL, a.get("digital", []), a.get("digital_other", ""))
        ),
    ]
    if stored.valid_until:
        lines.append("")
        lines.append(_("Extended applications:"))
        lines.extend(
            _("№{number}: valid until {date}").format(
                number=n, date=fmt_date(d, common.locale_of(m))
            )
            for n, d in stored.valid_until
        )
    return {"view_text": "\n".join(lines)}


def make_dialog() -> Dialog:
    """The extension questionnaire, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("Questionnaire"),
            Tr(
                "Read before filling in the questionnaire.\n\n"
                "The questionnaire is needed to extend your applications in the queue. Every "
                "application is valid for one year and must be extended every autumn. If you do "
                "not "
                "extend it, it is removed from the queue and put in the stop-list indefinitely.\n\n"
                "If an application you still need was removed during the cleaning, you can "
                "restore it "
                'from the stop-list in the cabinet section "My applications".'
            ),
            Format("\n⏳ {closed_note}", when="closed_note"),
            Column(
                Button(
                    Tr("Fill in the questionnaire"),
                    id="fill",
                    on_click=on_fill,
                    when="campaign_open",
                ),
                SwitchTo(
                    Tr("View the questionnaire"),
                    id="view",
                    state=ExtensionSG.view,
                    when="has_answers",
                ),
                Cancel(Tr("Back")),
            ),
            common.hint(),
            getter=intro_getter,
            state=ExtensionSG.intro,
        ),
        Window(
            Tr("Question 1 of 6"),
            Tr("<b>Expected kindergartens</b>"),
            Tr(
                "Choose the kindergartens you would like your child to attend (from 1 to 3). This "
                "does not mean the child will be enrolled in them, but the answer tells us the "
                "demand "
                "for each kindergarten. Chosen: {chosen} of 3."
            ),
            ScrollingGroup(
                multiselect("kgs", "items", max_selected=3), id="kgs_pages", width=1, height=6
            ),
            Row(
                Cancel(Tr("Back")),
                SwitchTo(Tr("Next"), id="next_q1", state=ExtensionSG.ownership, when="can_next"),
            ),
            common.hint(),
            getter=kindergartens_getter,
            state=ExtensionSG.kindergartens,
        ),
        Window(
            Tr("Question 2 of 6"),
            Tr("<b>Preference for state or private kindergartens</b>"),
            Tr("Tell us how important the form of ownership of the kindergarten is to you."),
            Group(radio("own", "ownership"), width=3),
            Tr("Why?"),
            Group(multiselect("why", "reasons"), width=2),
            Row(
                Back(Tr("Back")),
                SwitchTo(Tr("Next"), id="next_q2", state=ExtensionSG.language, when="can_next"),
            ),
            common.hint(),
            getter=ownership_getter,
            state=ExtensionSG.ownership,
        ),
        Window(
            Tr("Question 3 of 6"),
            Tr("<b>Teaching language</b>"),
            Tr("Choose the teaching language you want."),
            Column(radio("lang", "languages")),
            Row(
                Back(Tr("Back")),
                SwitchTo(Tr("Next"), id="next_q3", state=ExtensionSG.payment, when="can_next"),
            ),
            common.hint(),
            getter=language_getter,
            state=ExtensionSG.language,
        ),
        Window(
            Tr("Question 4 of 6"),
            Tr("<b>Maximum parental payment</b>"),
            Tr(
                "What is the maximum monthly payment for the kindergarten's services you can "
                "afford? "
                "Please be objective: do not give the lowest possible level if you are ready to "
                "pay "
                "more. This helps to plan next year's state educational order."
            ),
            Group(radio("pay", "payments"), width=3),
            Row(
                Back(Tr("Back")),
                SwitchTo(Tr("Next"), id="next_q4", state=ExtensionSG.activities, when="can_next"),
            ),
            common.hint(),
            getter=payment_getter,
            state=ExtensionSG.payment,
        ),
        Window(
            Tr("Question 5 of 6"),
            Tr("<b>Extra sections and activities</b>"),
            Tr(
                "Which extra services would interest you if the kindergarten offered them for a "
                "fee? "
                'Choose any; for "Other" you will type your own.'
            ),
            Group(multiselect("acts", "activities"), width=2),
            Row(
                SwitchTo(Tr("Back"), id="back_q5", state=ExtensionSG.payment),
                Button(Tr("Next"), id="next_q5", on_click=on_activities_next),
            ),
            common.hint(),
            getter=activities_getter,
            state=ExtensionSG.activities,
        ),
        Window(
            Tr("Type which other activities interest you."),
            TextInput(id="acts_other", on_success=on_activities_other),
            MessageInput(on_not_text),
            SwitchTo(Tr("Back"), id="back_q5o", state=ExtensionSG.activities),
            state=ExtensionSG.activities_other,
        ),
        Window(
            Tr("Question 6 of 6"),
            Tr("<b>Digitalisation</b>"),
            Tr("Which features of the personal cabinet would be interesting and useful to you?"),
            Group(multiselect("digi", "digital"), width=1),
            Row(
                SwitchTo(Tr("Back"), id="back_q6", state=ExtensionSG.activities),
                Button(Tr("Next"), id="next_q6", on_click=on_digital_next),
            ),
            common.hint(),
            getter=digital_getter,
            state=ExtensionSG.digital,
        ),
        Window(
            Tr("Type which other features would be useful to you."),
            TextInput(id="digi_other", on_success=on_digital_other),
            MessageInput(on_not_text),
            SwitchTo(Tr("Back"), id="back_q6o", state=ExtensionSG.digital),
            state=ExtensionSG.digital_other,
        ),
        Window(
            Tr("Choose the applications to extend by one year."),
            Tr("You have no applications to extend.", when="no_apps"),
            Column(multiselect("apps_ms", "apps")),
            Button(
                Tr("Extend applications ({count} pcs.)"),
                id="extend",
                on_click=on_extend,
                when="can_extend",
            ),
            SwitchTo(Tr("Back"), id="back_ext", state=ExtensionSG.digital),
            common.hint(),
            getter=extend_getter,
            state=ExtensionSG.extend,
        ),
        Window(
            Tr("Thank you! Your answers are saved and the applications are extended by one year."),
            Column(
                SwitchTo(Tr("View the questionnaire"), id="view_done", state=ExtensionSG.view),
                Cancel(Tr("Back to the cabinet")),
            ),
            common.hint(),
            state=ExtensionSG.done,
        ),
        Window(
            Format("{view_text}"),
            Cancel(Tr("Back to the cabinet")),
            common.hint(),
            getter=view_getter,
            state=ExtensionSG.view,
        ),
    )
