"""Every refusal a core service can raise reaches the parent as a sentence in kk and ru."""

import ast
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.texts.reasons import _texts, reason_text

ROOT = Path(__file__).resolve().parents[2]


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = getattr(node, "func", None)
            name = getattr(func, "id", getattr(func, "attr", None))
            if name == "DomainError" and node.args and isinstance(node.args[0], ast.Constant):
                codes.add(node.args[0].value)
    return codes - {"invalid_iin"}  # rendered through the iin_* texts


def test_every_reason_code_raised_in_core_has_a_text() -> None:
    assert sorted(_raised_codes() - set(_texts())) == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("ru", "закреплено за родителями"), ("kk", "ата-аналарға бекітілген")],
)
def test_a_refused_seat_says_why_in_the_parents_language(locale: str, expected: str) -> None:
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(locale):
        text = reason_text("not_eligible", why="priority_window")
    assert expected in text


def test_an_invalid_iin_names_the_broken_rule() -> None:
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("ru"):
        text = reason_text("invalid_iin", detail="checksum")
    assert "контрольн" in text.lower()
