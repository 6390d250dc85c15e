"""A child without an IIN (not a citizen) in the submission wizard: the parent types the
child's name, birth date and sex, uploads the birth certificate and declares being the legal
representative (the gov registry cannot confirm it for a non-citizen child). The child is then
stored (`core.people.create_child_without_iin`) and the wizard continues to step 2 as with a
registry child. Windows are in `windows.py`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, cast

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.common import applicant_of, checkbox, settings_of, today_of
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission.data import ChildData, DraftChild, children
from bot.dialogs.submission.replies import refuse
from bot.dialogs.submission.uploads import upload_of
from bot.texts.formats import esc
from bot.texts.labels import sex_name
from bot.texts.reasons import local_refusal, reason_text
from bot.texts.typed import clean_typed
from core.models import Child
from core.people import applicants
from core.people.iin import full_years

DATA = "no_iin"  # dialog_data key: the child being typed in (JSON primitives)
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’\-][^\W\d_]+)*$")
_DATE = re.compile(r"^\s*(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})\s*$")
DECLARATION = "no_iin_legal"  # the Checkbox of the confirmation window
NamePart = Literal["last_name", "first_name", "middle_name"]


async def on_no_iin(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[DATA] = {}
    await checkbox(manager, DECLARATION).set_checked(False)
    await manager.switch_to(S.nc_last_name)


async def on_last_name(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    await _name_part(message, manager, text, "last_name", S.nc_first_name)


async def on_first_name(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    await _name_part(message, manager, text, "first_name", S.nc_middle_name)


async def on_middle_name(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    await _name_part(message, manager, text, "middle_name", S.nc_birth)


async def on_skip_middle_name(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    _draft(manager)["middle_name"] = ""
    await manager.switch_to(S.nc_birth)


async def on_birth_date(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    born = parse_birth_date(clean_typed(text))
    if born is None:
        await refuse(
            message,
            manager,
            _("Please send the date of birth as DD.MM.YYYY, for example 05.03.2022."),
        )
        return
    today = today_of(manager)
    if born > today:
        await refuse(message, manager, _("The date of birth cannot be in the future."))
        return
    settings = settings_of(manager)
    age = full_years(born, today)
    if age >= settings.max_child_age_years:
        await refuse(
            message,
            manager,
            reason_text("child_too_old", age=age, max_age=settings.max_child_age_years),
        )
        return
    _draft(manager)["birth"] = born.isoformat()
    await manager.switch_to(S.nc_sex)


async def on_sex(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _draft(manager)["sex"] = "female" if button.widget_id == "nc_girl" else "male"
    await manager.switch_to(S.nc_certificate)


async def on_certificate(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    upload = upload_of(message)
    if upload is None:
        await refuse(message, manager, local_refusal("document_expected"))
        return
    file_id, mime, name = upload
    document = await applicants.create_document(
        applicant_of(manager).id, "birth_certificate", file_id, mime_type=mime, file_name=name
    )
    _draft(manager)["certificate_id"] = document.id
    await manager.switch_to(S.nc_confirm)


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    draft = dialog_manager.dialog_data.get(DATA, {})
    born = draft.get("birth")
    return {
        "child_name": esc(_full_name(draft)),
        "child_birth": date.fromisoformat(born).strftime("%d.%m.%Y") if born else "",
        "child_sex": sex_name(draft.get("sex", "")),
    }


async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Store the child (reusing one already typed in by this parent) and go to step 2."""
    draft = DraftChild(**_draft(manager))
    if not checkbox(manager, DECLARATION).is_checked():
        await refuse(
            None,
            manager,
            _("Tick the box to confirm that you are the child's legal representative."),
        )
        return
    if not all(draft.get(key) for key in ("last_name", "first_name", "birth", "certificate_id")):
        await manager.switch_to(S.nc_last_name)
        return
    applicant = applicant_of(manager)
    born = date.fromisoformat(draft["birth"])
    queued = await applicants.queued_by_other_parents(
        applicant.id,
        last_name=draft["last_name"],
        first_name=draft["first_name"],
        middle_name=draft.get("middle_name", ""),
        birth_date=born,
    )
    if queued:  # told now, not only when the statement is refused at the end
        await refuse(
            None,
            manager,
            _(
                "Please note: another parent or legal representative has already applied for a "
                "child with this name and date of birth. A child can have only one application "
                "in each queue, so an application to the same queue will be refused."
            ),
        )
    child = await _same_child(applicant.id, draft, born)
    if child is None:
        child = await applicants.create_child_without_iin(
            applicant,
            last_name=draft["last_name"],
            first_name=draft["first_name"],
            middle_name=draft.get("middle_name", ""),
            birth_date=born,
            birth_certificate=draft["certificate_id"],
            sex=draft.get("sex", ""),
        )
    found = children(manager)
    found[:] = [c for c in found if c["child_id"] != child.id]
    index = max((c["index"] for c in found), default=-1) + 1
    found.append(
        ChildData(
            index=index,
            child_id=child.id,
            iin=None,
            name=_full_name(draft),
            birth=draft["birth"],
            age=full_years(born, today_of(manager)),
            too_old=False,
            legal=True,  # by the parent's declaration: the registry cannot confirm it
            declared=True,
            certificate_id=draft["certificate_id"],
        )
    )
    manager.dialog_data["child"] = index
    manager.dialog_data.setdefault("choices", [])
    await manager.switch_to(S.kindergartens)


def parse_birth_date(text: str) -> date | None:
    """ДД.ММ.ГГГГ (dots, dashes or slashes); None when it is not a real date."""
    found = _DATE.match(text or "")
    if not found:
        return None
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _draft(manager: DialogManager) -> DraftChild:
    return cast(DraftChild, manager.dialog_data.setdefault(DATA, {}))


def _clean_name(text: str) -> str | None:
    value = " ".join((text or "").split())
    if not value or len(value) > 64 or not _NAME.match(value):
        return None
    return value[:1].upper() + value[1:]


async def _name_part(
    message: Message, manager: DialogManager, text: str, key: NamePart, next_state: State
) -> None:
    value = _clean_name(text)
    if value is None:
        await refuse(
            message,
            manager,
            _("Please type the name in letters only, as in the birth certificate."),
        )
        return
    _draft(manager)[key] = value
    await manager.switch_to(next_state)


def _full_name(draft: DraftChild) -> str:
    parts = (draft.get("last_name"), draft.get("first_name"), draft.get("middle_name"))
    return " ".join(part or "" for part in parts).strip()


async def _same_child(applicant_id: int, draft: DraftChild, born: date) -> Child | None:
    """A child without an IIN this parent already entered with the same name and birth date
    (so a second application for them is refused as a duplicate, not stored twice)."""
    for child in await applicants.children_of(applicant_id):
        person = child.person
        if (
            person.iin is None
            and person.birth_date == born
            and person.last_name.casefold() == draft["last_name"].casefold()
            and person.first_name.casefold() == draft["first_name"].casefold()
            and (person.middle_name or "").casefold() == draft.get("middle_name", "").casefold()
        ):
            return child
    return None
