"""What a person typed or a registry sent, on its way in (parsed) and out (into HTML)."""

from __future__ import annotations

import pytest

from bot.texts.formats import esc
from bot.texts.typed import clean_typed
from core.people.iin import parse_iin


@pytest.mark.parametrize(
    "pasted",
    [
        "\u200f900314364011",  # right-to-left mark, as copied from an Arabic/Hebrew chat
        "\u200b900314364011\u200b",
        "\ufeff900314364011",
        "\u2066900314364011\u2069",  # bidi isolate
        "  9003\u200c1436\u20604011 ",
    ],
)
def test_a_pasted_iin_with_invisible_marks_reads_as_its_digits(pasted: str) -> None:
    assert clean_typed(pasted) == "900314364011"
    assert parse_iin(clean_typed(pasted)).value == "900314364011"


def test_nothing_typed_is_an_empty_text() -> None:
    assert clean_typed(None) == "" and clean_typed("\u200b \u200f") == ""


def test_markup_is_escaped_as_text_and_plain_words_are_unchanged() -> None:
    assert esc('<b>x</b> <a href="https://e.x">y</a> & co') == (
        '&lt;b&gt;x&lt;/b&gt; &lt;a href="https://e.x"&gt;y&lt;/a&gt; &amp; co'
    )
    assert esc("Ясли-сад «Балапан» №7") == "Ясли-сад «Балапан» №7"
