"""Every user-visible text exists in Kazakh and Russian, translated and not fuzzy."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from scripts.i18n import LANGUAGES, ROOT, SOURCES, po_path, problems


def test_no_entry_is_missing_or_fuzzy() -> None:
    assert problems() == []


def test_every_text_in_the_code_is_in_both_catalogs(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "gettext",
            "-k",
            "lazy_gettext",
            "-k",
            "N_",
            "-k",
            "ngettext:1,2",
            "-k",
            "__n:1,2",
            "-k",
            "Tr",
            "-o",
            str(pot),
            *[str(ROOT / s) for s in SOURCES],
        ],
        check=True,
    )
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
