"""The one row text of a kindergarten in a list (the "Kindergartens" menu, the wizard's search
results, "nearest"): its name, the distance when known, the languages it teaches in and its free
seats (for the child's birth year when the list is for a child), so a parent can choose without
opening every card. Short: Telegram cuts long button labels."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from core.views.directory import KindergartenBrief


def language_short(code: str) -> str:
    """A teaching language in a list row: "каз", "рус" / "қаз", "орыс"."""
    return {"kk": _("kaz"), "ru": _("rus")}.get(code, code)


def row_facts(brief: KindergartenBrief) -> str:
    """ "каз, рус · свободно: 2" (free seats shown only when there are some)."""
    parts = []
    if brief.languages:
        parts.append(", ".join(language_short(code) for code in brief.languages))
    if brief.free_seats:
        parts.append(_("free: {count}").format(count=brief.free_seats))
    return " · ".join(parts)


def kindergarten_row(brief: KindergartenBrief, language: str, distance: str = "") -> str:
    """Name · distance · languages · free seats; the parts that are known."""
    parts = [brief.name(language), distance, row_facts(brief)]
    return " · ".join(part for part in parts if part)
