"""Every user-visible text exists in Kazakh and Russian, translated and not fuzzy."""

import gettext
import re
import tokenize
from pathlib import Path
from typing import BinaryIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.platform import catalogs
from core.platform.catalogs import compile_all
from scripts.i18n import LANGUAGES, extract_messages, po_path, problems


def test_no_entry_is_missing_or_fuzzy() -> None:
    assert problems() == []


def test_every_text_in_the_code_is_in_both_catalogs(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    extract_messages(pot)
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as handle:
            have = {
                m.id if isinstance(m.id, str) else m.id[0]
                for m in read_po(handle, locale=lang)
                if m.id and m.string
            }
        assert sorted(wanted - have) == [], f"untranslated in {lang}"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)[^{}]*\}", text))


def test_translations_keep_the_placeholders_of_the_original() -> None:
    """A translation that drops or renames {number} would show a wrong text or fail to format."""
    broken = []
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if not message.id or not message.string:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                wanted = set().union(*(_placeholders(i) for i in ids))
                for text in strings:
                    if text and _placeholders(text) != wanted:
                        broken.append(f"{lang}: {ids[0]!r} -> {text!r}")
    assert broken == []


def test_kazakh_is_not_russian_or_english_copied_over() -> None:
    with po_path("ru").open("rb") as handle:
        russian = {m.id: m.string for m in read_po(handle, locale="ru") if m.id}
    copied = []
    with po_path("kk").open("rb") as handle:
        for message in read_po(handle, locale="kk"):
            if not message.id or not isinstance(message.id, str):
                continue
            words = re.sub(r"\{[^{}]*\}", "", message.id).split()
            if len(words) < 3:  # "Phone: {phones}", "{distance} km": the same in both
                continue
            if message.string in (message.id, russian.get(message.id)):
                copied.append(message.id)
    assert copied == []


# Kazakh postpositions that govern a case: the word before them takes an ending ("күнге дейін",
# "күнінен бастап"), which a formatted date or number put into a placeholder cannot take.
CASE_POSTPOSITIONS = re.compile(r"\}\s*(дейін|дейінгі|бастап|кейін|бері)\b")
# A case ending written after a number placeholder ("{max}-ге") is right for some numbers only
# ("5-ке", "6-ға"); an ordinal's "-беті" / "-орын" is not a case ending and stays.
CASE_ENDING_AFTER_PLACEHOLDER = re.compile(
    r"\}-(ден|тен|нен|дан|тан|нан|ге|ке|ға|қа|на|не|ны|ні|ды|ді|ты|ті|да|де|та|те|"
    r"ның|нің|дың|дің|тың|тің|мен|бен|пен)\b"
)


def test_no_kazakh_text_puts_a_placeholder_where_a_case_ending_is_needed() -> None:
    """ "22 қараша 2027 дейін" is wrong Kazakh; such texts read as a label ("Мерзімі: {date}")."""
    wrong = []
    with po_path("kk").open("rb") as handle:
        for message in read_po(handle, locale="kk"):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wrong += [
                text
                for text in strings
                if text
                and (CASE_POSTPOSITIONS.search(text) or CASE_ENDING_AFTER_PLACEHOLDER.search(text))
            ]
    assert wrong == []


def test_a_process_reading_a_catalog_while_another_compiles_it_sees_a_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workers and webhook servers start together and each compiles the catalogs at start: a
    reader in the middle of a compile once found a truncated .mo and the worker crashed."""
    compile_all()
    seen: list[str] = []
    write = catalogs.write_mo

    def write_while_read(handle: BinaryIO, catalog: Catalog) -> None:
        for language in LANGUAGES:
            with po_path(language).with_suffix(".mo").open("rb") as mo:
                seen.append(gettext.GNUTranslations(mo).gettext("Help"))
        write(handle, catalog)

    monkeypatch.setattr(catalogs, "write_mo", write_while_read)
    compile_all()

    assert seen == ["Көмек", "Помощь", "Көмек", "Помощь"]


# A call inside an f-string is one string token to the extractor: the text never reaches the
# catalogs and is shown in English.
GETTEXT_IN_FSTRING = re.compile(r"(?:(?<![\w.])_|\bn?gettext)\(\s*[\"']")


def test_no_text_is_hidden_from_the_catalogs_inside_an_f_string() -> None:
    root = Path(__file__).resolve().parents[2]
    hidden = []
    for package in ("bot", "core", "webhooks", "worker", "indigo"):
        for path in (root / package).rglob("*.py"):
            with path.open("rb") as handle:
                for token in tokenize.tokenize(handle.readline):
                    text = token.string
                    if token.type == tokenize.STRING and text[:2].lower() in (
                        "f'",
                        'f"',
                        "rf",
                        "fr",
                    ):
                        if GETTEXT_IN_FSTRING.search(text):
                            hidden.append(f"{path.relative_to(root)}:{token.start[0]}")
    assert hidden == []
