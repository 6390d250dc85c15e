"""The verifier agrees with the reference RFC 6962 test vectors (transparency-dev/merkle): every
valid inclusion and consistency proof is accepted, every corrupted one refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from verifier import merkle

VECTORS = Path(__file__).resolve().parents[1] / "data" / "merkle-testdata" / "testdata"
INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))


def _case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b(p) for p in case["proof"] or []]


def _name(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_the_vectors_are_all_there() -> None:
    assert len(INCLUSION) > 50 and len(CONSISTENCY) > 50


@pytest.mark.parametrize("path", INCLUSION, ids=_name)
def test_inclusion_vector(path: Path) -> None:
    case = _case(path)

    def check() -> None:
        merkle.verify_inclusion(
            _b(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _b(case["root"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("path", CONSISTENCY, ids=_name)
def test_consistency_vector(path: Path) -> None:
    case = _case(path)

    def check() -> None:
        merkle.verify_consistency(
            case["size1"], case["size2"], _proof(case), _b(case["root1"]), _b(case["root2"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()
