"""The public log over HTTP (the /log/* endpoints, docs/openapi.json) and the checks that need it:
a checkpoint's signature and its consistency with an earlier one, and the download of every leaf
checked against the signed root. Standard library HTTP only (urllib): anyone can run it."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier import merkle, note
from verifier.replay import ReplayReport, Rules, replay

PAGE = 1000  # leaves per /log/leaves request (the service's maximum)


class CheckFailed(Exception):
    """A check did not pass: `check` names it (signature, consistency, leaf_hash, root, ...)."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


class LogUnreachable(Exception):
    """The log could not be read (network, HTTP error, malformed answer)."""


@dataclass(frozen=True)
class SignedCheckpoint:
    origin: str
    size: int
    root: bytes
    text: str


class LogClient:
    """Reads the public endpoints of one deployment (`base`: e.g. https://indigo.example.kz)."""

    def __init__(self, base: str, *, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout

    def checkpoint(self) -> str:
        return self._get("/log/checkpoint").decode()

    def key(self) -> str:
        return self._get("/log/key").decode().strip()

    def consistency(self, first: int, second: int) -> list[bytes]:
        body = self._json("/log/proof/consistency", first=first, second=second)
        return [base64.b64decode(p) for p in body["proof"]]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        body = self._json("/log/proof/inclusion", index=index, size=size)
        return [base64.b64decode(p) for p in body["proof"]]

    def leaves(self, start: int, end: int) -> list[dict[str, Any]]:
        """Leaves [start, end) as {"seq", "data", "hash"}, read page by page."""
        out: list[dict[str, Any]] = []
        while start < end:
            stop = min(end, start + PAGE)
            page = self._json("/log/leaves", start=start, end=stop)["leaves"]
            if not page:
                raise LogUnreachable(f"/log/leaves returned nothing for {start}..{stop}")
            out.extend(page)
            start += len(page)
        return out

    def _json(self, path: str, **params: int) -> dict[str, Any]:
        try:
            body: dict[str, Any] = json.loads(self._get(path, **params))
        except ValueError as error:
            raise LogUnreachable(f"{path}: not JSON ({error})") from error
        return body

    def _get(self, path: str, **params: int) -> bytes:
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as error:
            raise LogUnreachable(f"{path}: HTTP {error.code} {error.read()[:200]!r}") from error
        except (urllib.error.URLError, OSError) as error:
            raise LogUnreachable(f"{path}: {error}") from error


# --- Checks ----------------------------------------------------------------------------------


def signed(text: str, key: str) -> SignedCheckpoint:
    """The checkpoint after its signature is checked against the verifier key."""
    try:
        checkpoint = note.verify_checkpoint(text, key)
    except Exception as error:  # NoteError, or a malformed note the parser refuses
        raise CheckFailed("signature", str(error) or type(error).__name__) from error
    return SignedCheckpoint(
        origin=str(checkpoint.origin),
        size=int(checkpoint.size),
        root=_bytes(checkpoint.root),
        text=text,
    )


def check_consistent(client: LogClient, old: SignedCheckpoint, new: SignedCheckpoint) -> None:
    """The newer checkpoint extends the older one (append-only, nothing rewritten)."""
    if new.origin != old.origin:
        raise CheckFailed("origin", f"log {new.origin!r}, expected {old.origin!r}")
    if new.size < old.size:
        raise CheckFailed("consistency", f"the log shrank from {old.size} to {new.size}")
    if new.size == old.size:
        if new.root != old.root:
            raise CheckFailed("consistency", f"two different roots for size {new.size}")
        return
    if old.size == 0:
        return
    proof = client.consistency(old.size, new.size)
    try:
        merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)
    except merkle.ProofError as error:
        raise CheckFailed(
            "consistency", f"size {old.size} -> {new.size}: {error or 'proof does not verify'}"
        ) from error


def load_state(path: Path) -> SignedCheckpoint | None:
    if not path.exists():
        return None
    body = json.loads(path.read_text())
    return SignedCheckpoint(
        origin=str(body["origin"]),
        size=int(body["size"]),
        root=base64.b64decode(body["root"]),
        text=str(body.get("note", "")),
    )


def save_state(path: Path, checkpoint: SignedCheckpoint) -> None:
    body = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode(),
        "note": checkpoint.text,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n")
    tmp.replace(path)


def verified_leaves(client: LogClient, checkpoint: SignedCheckpoint) -> list[dict[str, Any]]:
    """Every leaf of the signed checkpoint, each hashed here, all together giving its root."""
    rows = client.leaves(0, checkpoint.size)
    return leaves_matching(rows, checkpoint)


def leaves_matching(
    rows: list[dict[str, Any]], checkpoint: SignedCheckpoint
) -> list[dict[str, Any]]:
    """Parse leaves {"seq", "data", "hash"} after checking each hash and the root they give."""
    hashes: list[bytes] = []
    objects: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        data = str(row["data"]).encode()
        digest = merkle.leaf_hash(data)
        if int(row["seq"]) != index:
            raise CheckFailed("leaf_order", f"leaf {index} has seq {row['seq']}")
        if row.get("hash") is not None and _bytes(row["hash"]) != digest:
            raise CheckFailed("leaf_hash", f"leaf {index}: its data does not hash to its hash")
        obj = json.loads(data)
        if int(obj.get("seq", -1)) != index:
            raise CheckFailed("leaf_order", f"leaf {index} says it is leaf {obj.get('seq')}")
        hashes.append(digest)
        objects.append(obj)
    if len(hashes) != checkpoint.size:
        raise CheckFailed("root", f"{len(hashes)} leaves for a checkpoint of {checkpoint.size}")
    if merkle.root_from_hashes(hashes) != checkpoint.root:
        raise CheckFailed(
            "root", f"the {checkpoint.size} leaves do not hash to the signed checkpoint root"
        )
    return objects


def replay_log(
    base: str, key: str, rules: Rules | None = None
) -> tuple[SignedCheckpoint, ReplayReport]:
    """Fetch and verify the latest checkpoint and all its leaves, then replay the queue."""
    client = LogClient(base)
    checkpoint = signed(client.checkpoint(), key)
    leaves = verified_leaves(client, checkpoint)
    return checkpoint, replay(leaves, rules)


def _bytes(value: Any) -> bytes:
    """A hash given as bytes, hex or base64."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = str(value)
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return base64.b64decode(text)
