"""The Bot API specification as data (`spec/api.min.json`) and a shape checker for it.

The emulator's replies are checked against it in tests (and, with `TelegramConfig.validate`, on
every reply), so the bot meets Telegram's shapes here, not first in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

SPEC_PATH = Path(__file__).with_name("spec") / "api.min.json"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return cast("dict[str, Any]", json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def method_returns(method: str) -> list[str]:
    return list(spec()["methods"][method]["returns"])


def required_params(method: str) -> list[str]:
    found = spec()["methods"].get(method)
    if found is None:
        return []
    return [f["name"] for f in found.get("fields", []) if f["required"]]


def known_method(method: str) -> bool:
    return method in spec()["methods"]


def validate(value: Any, type_names: list[str] | str, path: str = "result") -> list[str]:
    """Problems found in `value` read as one of `type_names` (empty list: it fits)."""
    names = [type_names] if isinstance(type_names, str) else type_names
    best: list[str] | None = None
    for name in names:
        problems = _check(value, name, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"{path}: no type among {names}"]


def _check(value: Any, name: str, path: str) -> list[str]:
    if name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {name}, got {type(value).__name__}"]
        inner = name.removeprefix("Array of ")
        problems: list[str] = []
        for index, item in enumerate(value):
            problems += _check(item, inner, f"{path}[{index}]")
        return problems
    scalar = _SCALARS.get(name)
    if scalar is not None:
        return [] if scalar(value) else [f"{path}: expected {name}, got {value!r}"]
    type_spec = spec()["types"].get(name)
    if type_spec is None:
        return [f"{path}: unknown type {name}"]
    if type_spec.get("subtypes"):
        return validate(value, type_spec["subtypes"], path)
    if not isinstance(value, dict):
        return [f"{path}: expected {name} object, got {type(value).__name__}"]
    fields = {f["name"]: f for f in type_spec.get("fields", [])}
    problems = []
    for field_name, field in fields.items():
        if field_name not in value:
            if field["required"]:
                problems.append(f"{path}.{field_name}: required by {name}, missing")
            continue
        problems += validate(value[field_name], field["types"], f"{path}.{field_name}")
    for extra in value.keys() - fields.keys():
        problems.append(f"{path}.{extra}: not a field of {name}")
    return problems


_SCALARS: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "False": lambda v: v is False,
    "InputFile": lambda v: True,
}
