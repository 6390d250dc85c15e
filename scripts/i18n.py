"""Gettext catalogs (Babel): extract, update, fill, compile and check.

    python -m scripts.i18n extract      # pybabel extract + update both catalogs
    python -m scripts.i18n set F.json   # merge {"msgid": {"kk": "...", "ru": "..."}} into catalogs
    python -m scripts.i18n compile      # .po -> .mo (also done at every start)
    python -m scripts.i18n check        # exit 1 if any entry is missing or fuzzy

Several helpers may run `set` at once: a file lock serialises writers.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from core.platform.catalogs import DOMAIN, LANGUAGES, compile_all, po_path
from core.platform.catalogs import LOCALES_DIR as LOCALES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["bot", "core", "webhooks", "devtools", "worker", "indigo"]


@contextmanager
def locked() -> Iterator[None]:
    LOCALES.mkdir(exist_ok=True)
    with open(LOCALES / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _write(lang: str, catalog: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False)


def extract() -> None:
    pot = LOCALES / f"{DOMAIN}.pot"
    with locked():
        extract_messages(pot, "--no-location", "--sort-output")
        for lang in LANGUAGES:
            if not po_path(lang).exists():
                _write(lang, Catalog(locale=lang, domain=DOMAIN))
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "babel.messages.frontend",
                    "update",
                    "--no-fuzzy-matching",
                    "--ignore-obsolete",
                    "-i",
                    str(pot),
                    "-o",
                    str(po_path(lang)),
                    "-l",
                    lang,
                    "-w",
                    "100",
                ],
                check=True,
            )


def extract_messages(pot: Path, *options: str) -> None:
    """pybabel extract of every gettext call in SOURCES into `pot` (also the catalog test's)."""
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
            # bot/notifications/sms.py: `s.t("…", **values)` (the SMS texts)
            "-k",
            "t",
            *options,
            "-o",
            str(pot),
            *[str(ROOT / s) for s in SOURCES],
        ],
        check=True,
    )


def set_translations(entries: dict[str, dict[str, str]]) -> None:
    with locked():
        for lang in LANGUAGES:
            catalog = _read(lang)
            for msgid, texts in entries.items():
                if lang not in texts:
                    continue
                message = catalog.get(msgid)
                if message is None:
                    catalog.add(msgid, texts[lang])
                else:
                    message.string = texts[lang]
                    message.flags.discard("fuzzy")
            _write(lang, catalog)


def problems() -> list[str]:
    found = []
    for lang in LANGUAGES:
        for message in _read(lang):
            if not message.id:
                continue
            text = message.string
            empty = not any(text) if isinstance(text, tuple) else not text
            if empty:
                found.append(f"{lang}: missing: {message.id!r}")
            if message.fuzzy:
                found.append(f"{lang}: fuzzy: {message.id!r}")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        extract()
    elif command == "set":
        set_translations(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "catalogs complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
