"""The options of the extension questionnaire: the codes stored (as core.applications.extension
publishes them) and their labels in the reader's language (lazy: translated when shown)."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import lazy_gettext as __

from core.applications import extension

# Option codes (stored) and their labels (translated here). The codes follow core.extension.
OWNERSHIP = {"any": __("Any"), "state": __("State"), "private": __("Private")}
OWNERSHIP_REASONS = {"quality": __("Quality"), "cost": __("Cost")}
LANGUAGES = {"kk": __("Kazakh"), "ru": __("Russian")}
PAYMENTS = [10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000, 50000, 70000, 90000, 110000]
ACTIVITIES = {
    "football": __("Football"),
    "sport_dance": __("Sports dance"),
    "ballroom_dance": __("Ballroom dance"),
    "chess": __("Chess"),
    "basketball": __("Basketball"),
    "drawing": __("Drawing"),
    "extended_day": __("Extended day group"),
    "fun_chemistry": __("Fun chemistry"),
    "karate": __("Karate"),
    "computer_graphics": __("Computer graphics"),
    "young_ecologist": __("Young ecologist"),
    "astronomy": __("Astronomy"),
    "other": __("Other"),
}
DIGITAL = {
    "invoices": __("Invoices for payment"),
    "teacher_profiles": __("Teacher's personal file"),
    "cashless_payments": __("Cashless payments"),
    "nutrition": __("Nutrition control"),
    "absence_recalculation": __("Automatic recalculation for missed days"),
    "e_contracts": __("Electronic contracts"),
    "attendance": __("Child's attendance sheets"),
    "android_app": __("Android mobile app"),
    "health_passport": __("Child's health passport and check-ups"),
    "ios_app": __("iOS mobile app"),
    "portfolio": __("Portfolio of the child's achievements and skills"),
    "online_reception": __("Online reception and appeals"),
    "other": __("Other"),
}


def codes(question_id: str, fallback: list[str]) -> list[str]:
    """Option codes of a question as core.applications.extension defines them (fallback: ours)."""
    for question in extension.QUESTIONS:
        if question.id == question_id:
            return list(question.options) + (["other"] if question.other else [])
    return fallback


def label(table: dict[str, Any], code: str) -> str:
    label = table.get(code)
    return str(label) if label is not None else code


def items(table: dict[str, Any], published: str) -> list[tuple[str, str]]:
    return [(code, label(table, code)) for code in codes(published, list(table))]
