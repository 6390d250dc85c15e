"""What the submission wizard keeps in `dialog_data` between windows, typed: the children found
(or typed in), the chosen one, and the kindergartens chosen. JSON primitives only (the dialog
stack is stored in Redis); rules live in `core`."""

from __future__ import annotations

from datetime import date
from typing import NotRequired, TypedDict, cast

from aiogram_dialog import DialogManager


class ChildData(TypedDict):
    """A child the wizard may put in the queue: from the registry, or typed in without IIN."""

    index: int  # the child's button id in the "children found" window
    child_id: int | None  # None: a registry child this parent does not represent
    iin: str | None
    name: str
    birth: str  # ISO date
    age: int
    too_old: bool
    legal: bool  # legal representative (by the registry, or by declaration)
    declared: NotRequired[bool]  # a child without IIN: by the parent's declaration
    certificate_id: NotRequired[int]  # a child without IIN: the birth certificate document


class DraftChild(TypedDict, total=False):
    """A child without IIN while the parent types it in, field by field (child_no_iin.py)."""

    last_name: str
    first_name: str
    middle_name: str
    birth: str  # ISO date
    sex: str  # male / female
    certificate_id: int  # the birth certificate document


class ChoiceData(TypedDict):
    """One kindergarten of step 2 with the queue language chosen there."""

    id: int
    language: str
    city_id: int


def children(manager: DialogManager) -> list[ChildData]:
    """The children found in the registry (and typed in), as stored in dialog data."""
    return cast("list[ChildData]", manager.dialog_data.setdefault("children", []))


def choices(manager: DialogManager) -> list[ChoiceData]:
    """The kindergartens chosen so far, in order of preference."""
    return cast("list[ChoiceData]", manager.dialog_data.setdefault("choices", []))


def chosen_child(manager: DialogManager) -> ChildData | None:
    index = manager.dialog_data.get("child")
    return next((child for child in children(manager) if child["index"] == index), None)


def the_child(manager: DialogManager) -> ChildData:
    """The chosen child, in the windows after step 1 (they cannot be reached without one)."""
    child = chosen_child(manager)
    if child is None:
        raise LookupError("no child chosen in the submission wizard")
    return child


def birth_year(child: ChildData) -> int:
    return date.fromisoformat(child["birth"]).year


def birth_text(child: ChildData) -> str:
    """The birth date as on the statement: 05.03.2022."""
    return date.fromisoformat(child["birth"]).strftime("%d.%m.%Y")
