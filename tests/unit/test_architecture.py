"""Layering rules from DESIGN.md that a reviewer would otherwise have to remember."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_aiogram() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if any(
            name.split(".")[0] in {"aiogram", "aiogram_dialog", "bot"} for name in _imports(path)
        )
    ]
    assert offenders == []


def test_handlers_do_not_query_the_database_directly() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in list((ROOT / "bot" / "handlers").rglob("*.py"))
        + list((ROOT / "bot" / "dialogs").rglob("*.py"))
        if "tortoise" in {name.split(".")[0] for name in _imports(path)}
    ]
    assert offenders == []
