"""Личный кабинет: my applications, my referrals, the event feed and the way to everything else.

Opened from the main menu ("Личный кабинет"); one verified phone is required, so a parent
without one is sent through the phone verification first and comes back here.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Back, Button, Column, Row, Start, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common, foresight, receipts, referral_card
from bot.dialogs.common import Dialog, Tr, Window, pick_list
from bot.dialogs.states import (
    BenefitChangeSG,
    CabinetSG,
    ComplaintSG,
    ExchangeSG,
    ExtensionSG,
    RecoverySG,
    ReferralModeSG,
    ReferralSG,
    SettingsSG,
    VerifySG,
)
from bot.notifications.render import render
from bot.texts.formats import esc, fmt_date, fmt_datetime
from bot.texts.labels import application_status, benefit_name, language_word, referral_status
from bot.texts.reasons import error_text, feed_kind
from core.applications import lifecycle
from core.models.enums import Stream
from core.notifications.kinds import load
from core.people import applicants
from core.platform.errors import DomainError
from core.referrals import lifecycle as referrals
from core.views import cabinet

# --- entry: one verified phone is required ------------------------------------------------


async def on_start(start_data: Any, manager: DialogManager) -> None:
    if await applicants.verified_phone_count(common.applicant_id(manager)) < 1:
        await manager.start(VerifySG.phone, data={"need": 1})


async def on_verified(start_data: Any, result: Any, manager: DialogManager) -> None:
    """Back from the phone verification: continue, or leave if the parent gave up."""
    if manager.current_context().state != CabinetSG.main:
        return
    if await applicants.verified_phone_count(common.applicant_id(manager)) < 1:
        await manager.done()


async def main_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    applicant = common.applicant_id(dialog_manager)
    feed = await cabinet.feed(applicant, 0)
    return {"feed_total": feed.total}


# --- my applications ----------------------------------------------------------------------


async def applications_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    cards = await cabinet.applications_of(
        common.applicant_id(dialog_manager), common.settings_of(dialog_manager), positions=False
    )
    items = [
        (
            str(card.id),
            f"№{card.number} · {card.child_name} · "
            f"{application_status(card.status, card.archive_reason)}",
        )
        for card in cards
    ]
    return {"items": items, "has_items": bool(items), "no_items": not items}


async def on_application_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["application_id"] = int(item_id)
    await manager.switch_to(CabinetSG.application)


async def application_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await cabinet.application_of(
        common.applicant_id(dialog_manager),
        dialog_manager.dialog_data["application_id"],
        common.settings_of(dialog_manager),
    )
    lines = [
        _("Application №{number}").format(number=card.number),
        _("Child: {name}").format(name=esc(card.child_name)),
        _("Status: {status}").format(status=application_status(card.status, card.archive_reason)),
        _("Submitted: {when}").format(
            when=fmt_datetime(
                card.submitted_at, common.tz_of(dialog_manager), common.locale_of(dialog_manager)
            )
        ),
    ]
    benefit = benefit_line(card)
    if benefit:
        lines.append(benefit)
    if card.position is not None:
        lines.append(
            _("Position in the city queue ({year}): {position}").format(
                year=card.birth_year, position=card.position
            )
        )
    for kg in card.kindergartens:
        name = esc(common.localized(dialog_manager, kg.name_ru, kg.name_kk))
        if kg.position is not None:
            lines.append(
                _("{rank}. {name} ({language}): position {position}").format(
                    rank=kg.rank,
                    name=name,
                    language=language_word(kg.language),
                    position=kg.position,
                )
            )
        else:
            lines.append(f"{kg.rank}. {name} ({language_word(kg.language)})")
    if card.referral_from is not None:
        lines.append(
            _("Referral wanted from: {date}").format(
                date=fmt_date(card.referral_from, common.locale_of(dialog_manager))
            )
        )
    lines.append(
        _("Valid until: {date}").format(
            date=fmt_date(card.valid_until, common.locale_of(dialog_manager))
        )
    )
    if card.can_restore:
        lines.append(
            _("The application is in the stop-list; restore it to return at its original time.")
        )
    return {
        "card_text": "\n".join(lines),
        "number": card.number,
        "can_withdraw": card.can_withdraw,
        "can_restore": card.can_restore,
        "can_get_referral": card.can_get_referral,
        "can_change_benefit": card.can_withdraw and not card.has_live_referral,
        "can_change_mode": card.can_withdraw and not card.has_live_referral,
    }


async def on_get_referral(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await manager.start(
        ReferralSG.__states__[0],
        data={"application_id": manager.dialog_data["application_id"]},
    )


async def on_change_benefit(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await manager.start(
        BenefitChangeSG.choose, data={"application_id": manager.dialog_data["application_id"]}
    )


async def on_change_mode(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await manager.start(
        ReferralModeSG.choose, data={"application_id": manager.dialog_data["application_id"]}
    )


async def on_application_proof(
    callback: CallbackQuery, widget: Any, manager: DialogManager
) -> None:
    await receipts.start_receipts(manager, manager.dialog_data["application_id"])


async def on_foresight(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    await foresight.start_foresight(manager, manager.dialog_data["application_id"])


async def on_withdraw(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    try:
        await lifecycle.withdraw(
            manager.dialog_data["application_id"],
            common.applicant_id(manager),
            actor=f"applicant:{common.applicant_id(manager)}",
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
        await manager.switch_to(CabinetSG.application, show_mode=ShowMode.SEND)
        return
    await common.reply(callback, _("The application has been withdrawn."))
    await manager.switch_to(CabinetSG.applications, show_mode=ShowMode.SEND)


async def on_restore(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    applicant = common.applicant_id(manager)
    try:
        await lifecycle.restore(
            manager.dialog_data["application_id"],
            applicant,
            actor=f"applicant:{applicant}",
            settings=common.settings_of(manager),
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
    else:
        await common.reply(
            callback, _("The application is back in the queue at its original time.")
        )
    await manager.switch_to(CabinetSG.application, show_mode=ShowMode.SEND)


# --- my referrals -------------------------------------------------------------------------


async def referrals_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    cards = await cabinet.referrals_of(common.applicant_id(dialog_manager))
    items = [
        (
            str(card.id),
            f"№{card.number} · {card.child_name} · {referral_status(card.status)}",
        )
        for card in cards
    ]
    return {"items": items, "no_items": not items}


async def on_referral_chosen(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["referral_id"] = int(item_id)
    await manager.switch_to(CabinetSG.referral)


async def referral_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = await cabinet.referral_of(
        common.applicant_id(dialog_manager), dialog_manager.dialog_data["referral_id"]
    )
    m = dialog_manager
    lines = [
        _("Referral №{number}").format(number=card.number),
        _("Child: {name}").format(name=esc(card.child_name)),
        *referral_card.place_lines(card, m),
    ]
    if card.live:
        lines += referral_card.term_lines(card, m)
    if card.extended:
        lines.append(_("The referral has already been extended once."))
    return {
        "card_text": "\n".join(lines),
        "number": card.number,
        "can_extend": card.can_extend,
        "can_decline": card.can_decline,
        "days": common.settings_of(m).referral_extension_days,
    }


async def on_referral_proof(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """The receipts of the referral's application: its events are entries of that application."""
    card = await cabinet.referral_of(
        common.applicant_id(manager), manager.dialog_data["referral_id"]
    )
    await receipts.start_receipts(manager, card.application_id)


async def on_extend_referral(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    try:
        await referrals.extend_referral(
            manager.dialog_data["referral_id"],
            common.applicant_id(manager),
            actor=f"applicant:{common.applicant_id(manager)}",
            settings=common.settings_of(manager),
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
    else:
        await common.reply(callback, _("The referral has been extended."))
    await manager.switch_to(CabinetSG.referral, show_mode=ShowMode.SEND)


async def on_decline_referral(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    try:
        await referrals.decline_referral(
            manager.dialog_data["referral_id"],
            common.applicant_id(manager),
            actor=f"applicant:{common.applicant_id(manager)}",
            settings=common.settings_of(manager),
        )
    except DomainError as error:
        await common.reply(callback, error_text(error))
    else:
        await common.reply(callback, _("You declined the referral; the seat goes to others."))
    await manager.switch_to(CabinetSG.referral, show_mode=ShowMode.SEND)


# --- event feed ---------------------------------------------------------------------------


async def feed_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    m = dialog_manager
    page = await cabinet.feed(common.applicant_id(m), m.dialog_data.get("page", 0))
    m.dialog_data["page"] = page.page
    blocks = [_feed_text(item, m) for item in page.items]
    return {
        "feed_text": "\n\n".join(blocks) if blocks else _("No events yet."),
        "page": page.page + 1,
        "pages": page.pages,
        "has_prev": page.page > 0,
        "has_next": page.page + 1 < page.pages,
    }


def _feed_text(item: cabinet.FeedItem, manager: DialogManager) -> str:
    when = fmt_datetime(item.created_at, common.tz_of(manager), common.locale_of(manager))
    try:
        payload = load(item.kind, item.params)
    except (KeyError, ValueError, TypeError):  # an event only the feed records, or an old row
        body = feed_kind(item.kind)
    else:
        # The feed shows no buttons: "press the button below" would point to nothing.
        locale, tz = common.locale_of(manager), common.tz_of(manager)
        body = render(payload, locale, tz=tz, buttons=False).text
    return f"<b>{when}</b>\n{body}"


async def on_feed_prev(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = max(manager.dialog_data.get("page", 0) - 1, 0)


async def on_feed_next(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = manager.dialog_data.get("page", 0) + 1


async def on_open_feed(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = 0
    await manager.switch_to(CabinetSG.feed)


def make_dialog() -> Dialog:
    """The personal cabinet, fresh for each Dispatcher (tests build several in one process)."""
    return Dialog(
        Window(
            Tr("Personal cabinet"),
            Tr("Choose a section."),
            Column(
                SwitchTo(Tr("My applications"), id="apps", state=CabinetSG.applications),
                SwitchTo(Tr("My referrals"), id="refs", state=CabinetSG.referrals),
                Button(Tr("Event feed ({feed_total})"), id="feed", on_click=on_open_feed),
                Start(Tr("Questionnaire (extension)"), id="anketa", state=ExtensionSG.intro),
                Start(Tr("Get a referral"), id="getref", state=ReferralSG.application),
                Start(Tr("Complaints and reports"), id="complaints", state=ComplaintSG.mine),
                Start(Tr("Exchange of places"), id="exchange", state=ExchangeSG.places),
                Start(Tr("Settings"), id="settings", state=SettingsSG.main),
                Start(Tr("Restore access to an application"), id="recover", state=RecoverySG.intro),
                Start(Tr("Exit"), id="exit", state=SettingsSG.sign_out),
            ),
            common.hint(),
            getter=main_getter,
            state=CabinetSG.main,
        ),
        Window(
            Tr("My applications"),
            Tr("You have no applications.", when="no_items"),
            Column(
                pick_list("app", "items", on_application_chosen),
            ),
            SwitchTo(Tr("Back"), id="back_main1", state=CabinetSG.main),
            common.hint(),
            getter=applications_getter,
            state=CabinetSG.applications,
        ),
        Window(
            Format("{card_text}"),
            Column(
                Button(
                    Tr("Get a referral"),
                    id="app_ref",
                    on_click=on_get_referral,
                    when="can_get_referral",
                ),
                Button(
                    Tr("Add or change a benefit"),
                    id="benefit",
                    on_click=on_change_benefit,
                    when="can_change_benefit",
                ),
                Button(
                    Tr("Referral date"),
                    id="ref_mode",
                    on_click=on_change_mode,
                    when="can_change_mode",
                ),
                Button(
                    Tr("Restore from the stop-list"),
                    id="restore",
                    on_click=on_restore,
                    when="can_restore",
                ),
                SwitchTo(
                    Tr("Withdraw the application"),
                    id="withdraw",
                    state=CabinetSG.withdraw_confirm,
                    when="can_withdraw",
                ),
                Button(
                    Tr("Proof in the public log"), id="app_proof", on_click=on_application_proof
                ),
                Button(
                    Tr("Why my place moved, chances, chart"), id="foresight", on_click=on_foresight
                ),
                SwitchTo(Tr("Back"), id="back_apps", state=CabinetSG.applications),
            ),
            common.hint(),
            getter=application_getter,
            state=CabinetSG.application,
        ),
        Window(
            Tr(
                "Withdraw application №{number}? It will leave the queue for good; "
                "a new application would stand at the end."
            ),
            Row(
                Button(Tr("Yes, withdraw"), id="withdraw_yes", on_click=on_withdraw),
                Back(Tr("No")),
            ),
            common.hint(),
            getter=application_getter,
            state=CabinetSG.withdraw_confirm,
        ),
        Window(
            Tr("My referrals"),
            Tr("You have no referrals.", when="no_items"),
            Column(
                pick_list("ref", "items", on_referral_chosen),
            ),
            SwitchTo(Tr("Back"), id="back_main2", state=CabinetSG.main),
            common.hint(),
            getter=referrals_getter,
            state=CabinetSG.referrals,
        ),
        Window(
            Format("{card_text}"),
            Column(
                SwitchTo(
                    Tr("Extend by {days} days"),
                    id="extend",
                    state=CabinetSG.extend_confirm,
                    when="can_extend",
                ),
                SwitchTo(
                    Tr("Decline the referral"),
                    id="decline",
                    state=CabinetSG.decline_confirm,
                    when="can_decline",
                ),
                Button(Tr("Proof in the public log"), id="ref_proof", on_click=on_referral_proof),
                SwitchTo(Tr("Back"), id="back_refs", state=CabinetSG.referrals),
            ),
            common.hint(),
            getter=referral_getter,
            state=CabinetSG.referral,
        ),
        Window(
            Tr(
                "Decline referral №{number}? The seat will be given to others and cannot be "
                "returned."
            ),
            Row(
                Button(Tr("Yes, decline"), id="decline_yes", on_click=on_decline_referral),
                Back(Tr("No")),
            ),
            common.hint(),
            getter=referral_getter,
            state=CabinetSG.decline_confirm,
        ),
        Window(
            Tr("Extend referral №{number} by {days} days? A referral can be extended only once."),
            Row(
                Button(Tr("Yes, extend"), id="extend_yes", on_click=on_extend_referral),
                SwitchTo(Tr("No"), id="extend_no", state=CabinetSG.referral),
            ),
            common.hint(),
            getter=referral_getter,
            state=CabinetSG.extend_confirm,
        ),
        Window(
            Tr("Event feed, page {page} of {pages}"),
            Format("{feed_text}"),
            Row(
                Button(Tr("◀ Newer"), id="feed_prev", on_click=on_feed_prev, when="has_prev"),
                Button(Tr("Older ▶"), id="feed_next", on_click=on_feed_next, when="has_next"),
            ),
            SwitchTo(Tr("Back"), id="back_main3", state=CabinetSG.main),
            common.hint(),
            getter=feed_getter,
            state=CabinetSG.feed,
        ),
        on_start=on_start,
        on_process_result=on_verified,
    )


async def open_cabinet(manager: DialogManager) -> None:
    """Entry for the main menu button "Личный кабинет"."""
    await manager.start(CabinetSG.main, mode=StartMode.RESET_STACK)


def benefit_line(card: cabinet.ApplicationCard) -> str:
    """The benefit of an application and where its check stands ("" without a benefit)."""
    if card.benefit_category is None and card.stream == Stream.general:
        return ""
    benefit_class = {
        Stream.extraordinary: _("extraordinary"),
        Stream.first_priority: _("first priority"),
    }.get(Stream(card.stream), "")
    status = {
        "pending": _("waiting for confirmation by the education department"),
        "confirmed": _("confirmed"),
        "rejected": _("not confirmed"),
    }.get(card.benefit_status, "")
    text = _("Benefit: {benefit}").format(benefit=benefit_class or "—")
    if card.benefit_category is not None:
        text += f" ({benefit_name(card.benefit_category)})"
    if status and card.status != "archived":  # an archived application waits for nothing
        text += " — " + status
    return text
