"""Layering rules from DESIGN.md and issue 10 that a reviewer would otherwise have to remember.

Read from the source with `ast` (nothing is imported): who may import whom, no import cycles
(imports inside functions and under TYPE_CHECKING count), no function-body imports of our own
modules, and wiring by explicit imports rather than by strings naming our modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = (
    "indigo",
    "bot",
    "core",
    "webhooks",
    "worker",
    "devtools",
    "bench",
    "scripts",
    "tests",
)
RUNTIME = ("core", "bot", "webhooks", "worker", "indigo")


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a module of ours when it is one."""

    source: str  # the importing module
    target: str  # the imported module (the most specific one that exists)
    path: Path
    line: int
    in_function: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def test_core_never_imports_the_bot_framework_or_outer_layers() -> None:
    banned = {"aiogram", "aiogram_dialog", "bot", "webhooks", "worker", "indigo"}
    banned |= {"devtools", "scripts", "tests", "bench"}
    offenders = [
        f"{i.where} imports {i.target}"
        for i in _all_imports()
        if _package(i.source) == "core" and i.target.split(".")[0] in banned
    ]
    assert offenders == [], "\n".join(offenders)


def test_handlers_do_not_query_the_database_directly() -> None:
    folders = [ROOT / "bot" / name for name in ("handlers", "dialogs", "staff")]
    offenders = [
        f"{i.where} imports {i.target}"
        for i in _all_imports()
        if any(i.path.is_relative_to(folder) for folder in folders)
        and i.target.split(".")[0] == "tortoise"
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_runtime_never_imports_development_tools_scripts_or_tests() -> None:
    """indigo/cli.py's demo and seed commands are the one door to devtools."""
    offenders = [
        f"{i.where} imports {i.target}"
        for i in _all_imports()
        if _package(i.source) in RUNTIME
        and _package(i.target) in {"devtools", "scripts", "tests", "bench"}
        and not (i.source == "indigo.cli" and _package(i.target) == "devtools")
    ]
    assert offenders == [], "\n".join(offenders)


def test_no_import_error_is_swallowed_around_our_own_imports() -> None:
    """A broken import must fail loudly, not silently drop a conversation or a job."""
    offenders = []
    for path, module, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
                ours = [
                    target
                    for stmt in node.body
                    for child in ast.walk(stmt)
                    for target, _ in _targets(child, module, path)
                    if _package(target) in FIRST_PARTY
                ]
                if ours:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} around {ours}")
    assert offenders == [], "\n".join(offenders)


def test_modules_are_wired_by_imports_not_by_names() -> None:
    """No importlib/pkgutil discovery and no `__import__` of our modules: a reader (and mypy)
    follows every dependency from an import line."""
    offenders = []
    for path, _, tree in _sources():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                if name.split(".")[0] == "pkgutil" or name == "importlib":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "__import__"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and _package(str(node.args[0].value)) in FIRST_PARTY
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} __import__")
    assert offenders == [], "\n".join(offenders)


def test_no_function_body_imports_our_modules() -> None:
    """Imports at the top show a module's dependencies; one hidden in a function hides a cycle."""
    offenders = list(
        dict.fromkeys(
            f"{i.where} {i.source} imports {i.target}"
            for i in _all_imports()
            if i.in_function and _package(i.target) in FIRST_PARTY
        )
    )
    assert offenders == [], f"{len(offenders)} function-body imports:\n" + "\n".join(offenders)


def test_there_is_no_import_cycle_among_our_modules() -> None:
    """Counting imports inside functions and under TYPE_CHECKING: both are real dependencies."""
    cycles = import_cycles()
    assert cycles == [], f"{len(cycles)} import cycles:\n" + "\n\n".join(cycles)


def import_cycles() -> list[str]:
    """Each strongly connected component of our import graph, with file:line of its edges."""
    edges: dict[str, dict[str, list[Import]]] = {}
    for i in _all_imports():
        if _package(i.target) in FIRST_PARTY and i.target != i.source:
            edges.setdefault(i.source, {}).setdefault(i.target, []).append(i)
    report = []
    for component in _strongly_connected(edges):
        inside = [
            f"  {a} -> {b}  ({', '.join(dict.fromkeys(i.where for i in imports))})"
            for a in sorted(component)
            for b, imports in sorted(edges.get(a, {}).items())
            if b in component
        ]
        report.append(" <-> ".join(sorted(component)) + "\n" + "\n".join(inside))
    return report


# --- reading the source -----------------------------------------------------------------------


def _sources() -> Iterator[tuple[Path, str, ast.Module]]:
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, _module_name(path), ast.parse(path.read_text(encoding="utf-8"))


def _all_imports() -> list[Import]:
    found = []
    for path, module, tree in _sources():
        for node, in_function in _walk(tree, in_function=False):
            for target, line in _targets(node, module, path):
                found.append(Import(module, target, path, line, in_function))
    return found


def _walk(node: ast.AST, *, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _walk(child, in_function=nested)


def _targets(node: ast.AST, module: str, path: Path) -> list[tuple[str, int]]:
    """The modules an import statement loads: `from a import b` is a.b when that is a module."""
    if isinstance(node, ast.Import):
        return [(alias.name, node.lineno) for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [
        (f"{base}.{alias.name}" if _exists(f"{base}.{alias.name}") else base, node.lineno)
        for alias in node.names
    ]


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    return module.split(".")[0]


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError"} for n in names
    )


def _strongly_connected(edges: dict[str, dict[str, list[Import]]]) -> list[set[str]]:
    """Tarjan's algorithm; only components of two or more modules (self-imports are skipped)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: sorted(c))
