"""One official word per concept (docs/glossary.md), in both catalogs, and no other language's
words in a catalog: a Kazakh parent never reads «(БМГ)», «2022 туған жыл» or «кері қайтару»
where the glossary says «(МАБ)», «2022 ж.т.», «кері қайтарып алу»."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from scripts.i18n import LANGUAGES, po_path

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"

# Letters only Kazakh has: never in a Russian text.
KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
# Russian words a Kazakh text never needs (function words and the domain's nouns).
RUSSIAN_WORDS = re.compile(
    r"(?<![\w-])(и|в|на|по|для|что|или|это|от|до|при|без|уже|заявлени\w*|направлени\w*|"
    r"очеред\w*|причин\w*|ребен\w*|ребён\w*|справк\w*|льгот\w*|групп\w*|детск\w*|родител\w*|"
    r"срок\w*|истёк|истек|недействительн\w*|документ(ы|ов)|сад|ясли)(?![\w-])",
    re.IGNORECASE,
)
# Entries that must name the other language in its own words (the language choice).
BILINGUAL = {"Choose a language.", "Русский", "Қазақ тілі"}


@cache
def _catalog(language: str) -> dict[str, tuple[str, ...]]:
    with po_path(language).open("rb") as handle:
        entries = {}
        for message in read_po(handle, locale=language):
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            entries[msgid] = tuple(s for s in strings if s)
        return entries


def _cells(line: str) -> list[str]:
    """A markdown table row's cells; "\\|" inside a cell is a literal pipe."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [cell.replace("\\|", "|").strip() for cell in cells]


def _rows() -> list[dict[str, str]]:
    lines = GLOSSARY.read_text(encoding="utf-8").split("## Terms", 1)[1].split("\n## ", 1)[0]
    table = [line for line in lines.splitlines() if line.startswith("|")]
    header = _cells(table[0])
    return [dict(zip(header, _cells(line), strict=True)) for line in table[2:]]


def _patterns(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_glossary_term_names_its_words_and_its_source() -> None:
    rows = _rows()
    assert len(rows) >= 25
    for row in rows:
        assert row["kk"] and row["ru"] and row["source"], row["concept"]
        for column in ("not in kk", "not in ru"):
            for pattern in _patterns(row[column]):
                re.compile(pattern)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_entry_uses_a_variant_the_glossary_rules_out(language: str) -> None:
    """E.g. the birth cohort written «2022 туған жыл», the number «#{number}» or «№ {number}»,
    «(БМГ)» in Kazakh, «кері қайтару» for «отозвать»."""
    wrong = []
    for row in _rows():
        for pattern in _patterns(row[f"not in {language}"]):
            found = re.compile(pattern)
            wrong += [
                f"{row['concept']}: {pattern!r} in {text!r}"
                for texts in _catalog(language).values()
                for text in texts
                if found.search(text)
            ]
    assert wrong == []


def test_no_russian_text_has_kazakh_letters() -> None:
    wrong = [
        f"{msgid!r} -> {text!r}"
        for msgid, texts in _catalog("ru").items()
        for text in texts
        if msgid not in BILINGUAL and KAZAKH_LETTERS.search(text)
    ]
    assert wrong == []


def test_no_kazakh_text_has_russian_words() -> None:
    wrong = [
        f"{msgid!r} -> {text!r}: {RUSSIAN_WORDS.search(text)}"
        for msgid, texts in _catalog("kk").items()
        for text in texts
        if msgid not in BILINGUAL and RUSSIAN_WORDS.search(_strip_markup(text))
    ]
    assert wrong == []


def _strip_markup(text: str) -> str:
    """Tags, placeholders and commands are not words of the text."""
    return re.sub(r"<[^>]+>|\{[^{}]*\}|/\w+|<code>.*?</code>", " ", text)


def test_the_language_checks_catch_what_the_review_found() -> None:
    """The checks themselves: the review's examples are caught, correct texts pass."""
    assert RUSSIAN_WORDS.search("Себебі: Справка недействительна: срок истёк")
    assert not RUSSIAN_WORDS.search("№1292002 өтінішінің жеңілдігі расталмады. Себебі: құжаттар")
    assert KAZAKH_LETTERS.search("Ожидание ЖСН-ді")
    assert not KAZAKH_LETTERS.search("Заявление №1292002 зарегистрировано.")
    banned = {row["concept"]: _patterns(row["not in kk"]) for row in _rows()}
    cohort = banned["birth cohort (queue of one birth year)"]
    assert any(re.search(p, "{year} туған жыл, {language}") for p in cohort)
    assert not any(re.search(p, "{year} ж.т., {language}") for p in cohort)
    number = banned["application number, referral number"]
    assert all(
        any(re.search(p, text) for p in number)
        for text in ("#{number} өтініш", "№ {number} өтініш", "No. {number}")
    )
    assert not any(re.search(p, "№{number} өтініш") for p in number)
    withdraw = banned["withdraw (an application), revoke (a referral)"]
    assert any(re.search(p, "Өтінішті кері қайтару") for p in withdraw)
    assert not any(re.search(p, "Өтінішті кері қайтарып алу") for p in withdraw)
    assert any(re.search(p, "базасында (БМГ)") for p in banned["mobile citizens database"])
