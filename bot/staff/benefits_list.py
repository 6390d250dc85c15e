"""/benefits: the pending benefit claims in ONE message edited in place, a page at a time.

A page lists each claim (application number, masked child, category, kindergarten, working days
left before a waiting referral is annulled); ◀ 1/4 ▶ pages; the kindergarten filter lists only
kindergartens with claims, in natural order (№3 before №10); the status filter separates claims
whose referral waits from the rest; the age filter lists the children's birth years that have
claims; an application or referral number, or a child's name, typed
into the chat searches. Tapping a claim shows its card with Confirm and Reject, which open the
decision dialog (bot.staff.benefits, BenefitRejectSG) on top of this one, and "Show document",
which sends the uploaded document below; when the decision ends the list comes back below the
outcome with its page and filters.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Data, Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row, ScrollingGroup, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.common import Tr, Window, pick_list, settings_of
from bot.staff import texts
from bot.staff.answers import close_with
from bot.staff.context import accept, offer, staff_of, user_of
from bot.staff.inputs import typed_text
from bot.staff.states import BenefitListSG, BenefitRejectSG
from bot.texts.formats import esc
from bot.texts.labels import benefit_name
from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import StaffMember
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.views import staff_lists
from core.views.staff_lists import ClaimStatus, PendingBenefit

log = logging.getLogger(__name__)

PAGE_SIZE = 8
KINDERGARTENS_PER_PAGE = 8
SEARCH_LENGTH = 64


async def start_list(message: Message, staff: StaffMember, manager: DialogManager) -> None:
    """The /benefits command: the first page, or a plain answer when nothing waits."""
    _rows, total = await staff_lists.pending_benefits(staff, 0, 1)
    if not total:
        await message.answer(_("No benefit documents wait for a decision."))
        return
    await manager.start(BenefitListSG.claims, mode=StartMode.RESET_STACK)


def make_dialog() -> Dialog:
    sg = BenefitListSG
    back = SwitchTo(Tr("Back"), id="back", state=sg.claims)
    return Dialog(
        Window(
            Tr("<b>Benefit claims waiting for a decision: {total}</b>"),
            Tr("Kindergarten: {kindergarten}. Status: {status}."),
            Tr("Year of birth: {year}", when="year"),
            Tr("Search: {search}", when="search"),
            Format("{rows}", when="total"),
            Tr("Nothing matches. Change the filters or the search.", when="nothing"),
            Tr("Send an application or referral number, or the child's name, to search."),
            Column(pick_list("claim", "claims", on_claim)),
            Row(
                Button(Format("◀"), id="prev", on_click=on_prev, when="has_prev"),
                Button(Format("{page}/{pages}"), id="pages", when="many"),
                Button(Format("▶"), id="next", on_click=on_next, when="has_next"),
            ),
            Row(
                SwitchTo(Tr("Kindergarten"), id="kgf", state=sg.kindergarten),
                SwitchTo(Tr("Status"), id="stf", state=sg.status),
                SwitchTo(Tr("Age"), id="agf", state=sg.age),
            ),
            Button(Tr("Show all"), id="all", on_click=on_show_all, when="filtered"),
            Button(Tr("Close"), id="close", on_click=on_close),
            *typed_text(on_search),
            getter=claims_getter,
            state=sg.claims,
        ),
        Window(
            Tr("Show the claims of which kindergarten?"),
            ScrollingGroup(
                pick_list("kg", "kindergartens", on_kindergarten),
                id="kgs",
                width=1,
                height=KINDERGARTENS_PER_PAGE,
                hide_on_single_page=True,
            ),
            Row(Button(Tr("All kindergartens"), id="kga", on_click=on_any_kindergarten), back),
            getter=kindergartens_getter,
            state=sg.kindergarten,
        ),
        Window(
            Tr("Show which claims?"),
            Column(pick_list("st", "statuses", on_status)),
            back,
            getter=statuses_getter,
            state=sg.status,
        ),
        Window(
            Tr("Show the claims for children born in which year?"),
            Group(pick_list("age", "years", on_year), width=3),
            Row(Button(Tr("Any year"), id="aga", on_click=on_any_year), back),
            getter=years_getter,
            state=sg.age,
        ),
        Window(
            Format("{card}"),
            Row(
                Button(Tr("Confirm"), id="ok", on_click=on_decide),
                Button(Tr("Reject"), id="no", on_click=on_decide),
            ),
            Button(Tr("Show document"), id="doc", on_click=on_show_document, when="has_document"),
            SwitchTo(Tr("Back to the list"), id="back", state=sg.claims),
            getter=claim_getter,
            state=sg.claim,
        ),
        on_process_result=on_decided,
    )


# --- the page ---------------------------------------------------------------------------------


async def claims_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    manager = dialog_manager
    data = manager.dialog_data
    staff, user = staff_of(manager), user_of(manager)
    kindergarten_id = data.get("kindergarten_id")
    status = ClaimStatus(data.get("status", ClaimStatus.all))
    search = str(data.get("search", ""))
    page = int(data.get("page", 0))
    year = data.get("birth_year")
    tz = settings_of(manager).tz
    rows, total = await staff_lists.pending_benefits(
        staff, page, PAGE_SIZE, kindergarten_id, search, status=status, birth_year=year, tz=tz
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page >= pages:  # claims decided meanwhile: the last page that still has some
        page = data["page"] = pages - 1
        rows, total = await staff_lists.pending_benefits(
            staff, page, PAGE_SIZE, kindergarten_id, search, status=status, birth_year=year, tz=tz
        )
    offer(manager, "claim", [row.application_id for row in rows])
    first = page * PAGE_SIZE
    return {
        "total": total,
        "kindergarten": esc(data.get("kindergarten_name") or _("all")),
        "status": _status_label(status),
        "search": esc(search),
        "year": year,
        "nothing": not total,
        "rows": "\n\n".join(
            _row_text(i, row, manager) for i, row in enumerate(rows, start=first + 1)
        ),
        "claims": [
            (row.application_id, f"{i}. №{row.number} {row.child}")
            for i, row in enumerate(rows, start=first + 1)
        ],
        "page": page + 1,
        "pages": pages,
        "many": pages > 1,
        "has_prev": page > 0,
        "has_next": page + 1 < pages,
        "filtered": bool(search or kindergarten_id or year or status != ClaimStatus.all),
        "user": user,
    }


async def on_prev(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = max(int(manager.dialog_data.get("page", 0)) - 1, 0)


async def on_next(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data["page"] = int(manager.dialog_data.get("page", 0)) + 1


async def on_search(message: Message, widget: object, manager: DialogManager) -> None:
    """Typed text searches (a number or a name); the page shows again below it."""
    search = clean_typed(message.text)[:SEARCH_LENGTH]
    manager.dialog_data.update(search=search, page=0)
    manager.show_mode = ShowMode.SEND


async def on_show_all(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    for key in ("search", "kindergarten_id", "kindergarten_name", "status", "birth_year"):
        manager.dialog_data.pop(key, None)
    manager.dialog_data["page"] = 0


async def on_close(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    await close_with(callback, manager, _("The list of benefit claims is closed."))


# --- the filters ------------------------------------------------------------------------------


async def kindergartens_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    found = await staff_lists.benefit_kindergartens(staff_of(dialog_manager))
    offer(dialog_manager, "kg", [item.kindergarten.id for item in found])
    user = user_of(dialog_manager)
    return {
        "kindergartens": [
            (
                item.kindergarten.id,
                f"{texts.name(item.kindergarten, user)} ({item.claims})",
            )
            for item in found
        ]
    }


async def on_kindergarten(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        kindergarten_id = int(accept(manager, "kg", item_id))
        kindergarten = await _kindergarten(manager, kindergarten_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data.update(
        kindergarten_id=kindergarten_id,
        kindergarten_name=texts.name(kindergarten, user_of(manager)),
        page=0,
    )
    await manager.switch_to(BenefitListSG.claims)


async def on_any_kindergarten(
    callback: CallbackQuery, widget: object, manager: DialogManager
) -> None:
    manager.dialog_data.pop("kindergarten_id", None)
    manager.dialog_data.pop("kindergarten_name", None)
    manager.dialog_data["page"] = 0
    await manager.switch_to(BenefitListSG.claims)


async def statuses_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    offer(dialog_manager, "st", [str(status) for status in ClaimStatus])
    return {"statuses": [(str(status), _status_label(status)) for status in ClaimStatus]}


async def on_status(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        status = ClaimStatus(accept(manager, "st", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data.update(status=str(status), page=0)
    await manager.switch_to(BenefitListSG.claims)


async def years_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    years = await staff_lists.benefit_birth_years(staff_of(dialog_manager))
    offer(dialog_manager, "age", [year for year, _count in years])
    return {"years": [(year, f"{year} ({count})") for year, count in years]}


async def on_year(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        year = int(accept(manager, "age", item_id))
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data.update(birth_year=year, page=0)
    await manager.switch_to(BenefitListSG.claims)


async def on_any_year(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    manager.dialog_data.pop("birth_year", None)
    manager.dialog_data["page"] = 0
    await manager.switch_to(BenefitListSG.claims)


# --- one claim and the decision ---------------------------------------------------------------


async def on_claim(
    callback: CallbackQuery, widget: object, manager: DialogManager, item_id: str
) -> None:
    try:
        application_id = int(accept(manager, "claim", item_id))
        row = await _pending(manager, application_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    manager.dialog_data["application_id"] = application_id
    manager.dialog_data["number"] = row.number
    await manager.switch_to(BenefitListSG.claim)


async def claim_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    application_id = int(dialog_manager.dialog_data.get("application_id", 0))
    row = await staff_lists.pending_benefit(staff_of(dialog_manager), application_id)
    if row is None:
        return {"card": _("The benefit of this application is already decided.")}
    lines = [
        _("Application: #{number}").format(number=row.number),
        _("Child: {child}").format(child=esc(row.child)),
        _("Benefit: {benefit}").format(benefit=esc(benefit_name(row.benefit_category))),
        _row_place(row, dialog_manager),
    ]
    if not row.has_document:
        lines.append(_("No document is attached."))
    return {"card": "\n".join(lines), "has_document": row.has_document}


async def on_show_document(callback: CallbackQuery, widget: object, manager: DialogManager) -> None:
    """The uploaded document below the card (kept by its Telegram file id); the card stays."""
    application_id = int(manager.dialog_data.get("application_id", 0))
    document = await staff_lists.benefit_document(staff_of(manager), application_id)
    manager.show_mode = ShowMode.NO_UPDATE
    if (
        document is None
        or not document.telegram_file_id
        or not isinstance(callback.message, Message)
    ):
        await callback.answer(_("No document is attached."), show_alert=True)
        return
    caption = _("Application: #{number}").format(number=manager.dialog_data.get("number", ""))
    try:
        if document.mime_type.startswith("image/") and not document.file_name:
            await callback.message.answer_photo(document.telegram_file_id, caption=caption)
        else:
            await callback.message.answer_document(document.telegram_file_id, caption=caption)
    except TelegramBadRequest:
        log.warning("benefit document of application %s not sendable", application_id)
        await callback.answer(_("The document could not be sent."), show_alert=True)
        return
    await callback.answer()


async def on_decide(callback: CallbackQuery, widget: Button, manager: DialogManager) -> None:
    """Confirm or Reject: the decision dialog (its question, reasons and Cancel) on top."""
    application_id = int(manager.dialog_data.get("application_id", 0))
    try:
        row = await _pending(manager, application_id)
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=True)
        return
    state = BenefitRejectSG.confirm if widget.widget_id == "ok" else BenefitRejectSG.reason
    await manager.start(state, data={"application_id": row.application_id, "number": row.number})


async def on_decided(start_data: Data, result: Any, manager: DialogManager) -> None:
    """The decision dialog ended (its outcome stays in its message): the list again, below."""
    manager.dialog_data.pop("application_id", None)
    await manager.switch_to(BenefitListSG.claims)
    manager.show_mode = ShowMode.SEND
    await manager.show()


# --- helpers ----------------------------------------------------------------------------------


async def _pending(manager: DialogManager, application_id: int) -> PendingBenefit:
    row = await staff_lists.pending_benefit(staff_of(manager), application_id)
    if row is None:
        raise DomainError(Reason.benefit_not_pending, application_id=application_id)
    return row


async def _kindergarten(manager: DialogManager, kindergarten_id: int) -> Any:
    for item in await staff_lists.benefit_kindergartens(staff_of(manager)):
        if item.kindergarten.id == kindergarten_id:
            return item.kindergarten
    raise DomainError(Reason.out_of_scope, kindergarten_id=kindergarten_id)


def _status_label(status: ClaimStatus) -> str:
    return {
        ClaimStatus.all: lambda: _("all"),
        ClaimStatus.referral: lambda: _("a referral waits"),
        ClaimStatus.no_referral: lambda: _("no referral yet"),
    }[status]()


def _row_text(index: int, row: PendingBenefit, manager: DialogManager) -> str:
    head = _("{index}. №{number} · {child}, born {year} · {benefit}").format(
        index=index,
        number=row.number,
        child=esc(row.child),
        year=row.birth_year,
        benefit=esc(benefit_name(row.benefit_category)),
    )
    tail = _row_place(row, manager)
    if not row.has_document:
        tail += " · " + _("no document")
    return f"{head}\n{tail}"


def _row_place(row: PendingBenefit, manager: DialogManager) -> str:
    user = user_of(manager)
    kindergarten = esc(
        texts.pick(row.kindergarten_ru, row.kindergarten_kk or row.kindergarten_ru, user)
    )
    if row.deadline is None:
        return _("{kindergarten} · no referral yet, submitted {date}").format(
            kindergarten=kindergarten,
            date=texts.when(row.submitted_at, user, settings_of(manager)),
        )
    return _(
        "{kindergarten} · referral {referral}: working days left: {days} (until {deadline})"
    ).format(
        kindergarten=kindergarten,
        referral=esc(row.referral_number),
        days=row.working_days_left,
        deadline=texts.when(row.deadline, user, settings_of(manager)),
    )
