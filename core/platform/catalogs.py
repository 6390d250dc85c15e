"""The gettext catalogs: where they are, our languages, and compiling `.po` into `.mo`.

aiogram's I18n and Babel read only `.mo` files, which are build output (not committed), so
every process compiles a catalog that is newer than its `.mo` at start. `scripts/i18n.py`
(extract, check) is a development tool; the runtime needs only this module.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
LANGUAGES = ("kk", "ru")
DEFAULT_LANGUAGE = "ru"
BABEL_LOCALES = {"kk": "kk_KZ", "ru": "ru_RU"}


def babel_locale(language: str) -> str:
    """The Babel locale for one of our languages (kk -> kk_KZ); Russian for anything else."""
    return BABEL_LOCALES.get(language, BABEL_LOCALES[DEFAULT_LANGUAGE])


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_all() -> None:
    """Compile every catalog to its `.mo`.

    Several processes start at once (workers, webhook servers) and read the `.mo` while another
    may be compiling it: each `.mo` is written beside it and renamed over it in one step, so a
    reader sees the old file or the new one, never a half-written one."""
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".mo.tmp", delete=False) as tmp:
            write_mo(tmp, catalog)
        os.replace(tmp.name, path.with_suffix(".mo"))


def compile_if_stale() -> None:
    """Compile when a catalog is newer than its `.mo` (or the `.mo` is missing)."""
    for language in LANGUAGES:
        po = po_path(language)
        mo = po.with_suffix(".mo")
        if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
            compile_all()
            return
