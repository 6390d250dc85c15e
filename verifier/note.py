"""C2SP signed notes (https://c2sp.org/signed-note) carrying tlog checkpoints, Ed25519 only.

A checkpoint note: "<origin>\\n<size>\\n<base64 root>\\n", a blank line, then one line per
signature: "— <key name> <base64(4-byte key id || 64-byte signature)>". The signature covers the
text up to and including its last newline. A verifier key is "<name>+<hex key id>+<base64(0x01
|| public key)>", as Go's golang.org/x/mod/sumdb/note writes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # em dash, space
MAX_NOTE_BYTES = 1 << 20


class NoteError(ValueError):
    """A note or key that does not parse or verify; `reason` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes  # 4 bytes
    signature: bytes  # the rest (64 bytes for Ed25519)


@dataclass(frozen=True)
class Note:
    text: str  # the signed text, ending in "\n"
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: Note


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes  # 32 bytes


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 key: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key_string(name: str, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]):
        raise NoteError("bad_verifier_key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        kid = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("bad_verifier_key") from exc
    if len(kid) != 4 or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("bad_verifier_key")
    public_key = raw[1:]
    if key_id(name, public_key) != kid:
        raise NoteError("bad_verifier_key")
    return VerifierKey(name=name, key_id=kid, public_key=public_key)


def public_key_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """`text` followed by a blank line and one signature line (`name` must not contain
    spaces or "+")."""
    if not text.endswith("\n") or not _valid_name(name):
        raise NoteError("bad_note")
    signature = private.sign(text.encode())
    kid = key_id(name, public_key_of(private))
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(kid + signature).decode()}\n"


def add_signature(note_text: str, name: str, private: Ed25519PrivateKey) -> str:
    """One more signature on an already signed note (key rotation: both keys sign)."""
    note = parse_note(note_text)
    extra = sign_note(note.text, name, private).split("\n\n", 1)[1]
    return note_text + extra


def parse_note(text: str) -> Note:
    """The checkpoint and its signature lines; no signature is checked here."""
    if len(text.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note_too_large")
    if "\r" in text or "\n\n" not in text or not text.endswith("\n"):
        raise NoteError("malformed_note")
    body, _, sig_block = text.rpartition("\n\n")
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise NoteError("malformed_checkpoint")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (len(size_text) > 1 and size_text[0] == "0")
    ):
        raise NoteError("malformed_checkpoint")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("malformed_checkpoint") from exc
    if len(root) != 32:
        raise NoteError("malformed_checkpoint")
    signatures: list[Signature] = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed_signature")
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not _valid_name(name):
            raise NoteError("malformed_signature")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("malformed_signature") from exc
        if len(raw) < 5:
            raise NoteError("malformed_signature")
        signatures.append(Signature(name=name, key_id=raw[:4], signature=raw[4:]))
    if not signatures:
        raise NoteError("unsigned_note")
    return Note(
        text=body,
        origin=origin,
        size=int(size_text),
        root=root,
        extensions=tuple(lines[3:]),
        signatures=tuple(signatures),
    )


def verify_checkpoint(text: str, verifier_key: str, *, origin: str | None = None) -> Checkpoint:
    """The checkpoint, if `verifier_key` signed it (and its origin is `origin` when given);
    raises NoteError otherwise."""
    key = parse_verifier_key(verifier_key)
    note = parse_note(text)
    if origin is not None and note.origin != origin:
        raise NoteError("wrong_origin")
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for sig in note.signatures:
        if sig.name != key.name or sig.key_id != key.key_id:
            continue
        try:
            public.verify(sig.signature, note.text.encode())
        except InvalidSignature as exc:
            raise NoteError("bad_signature") from exc
        return Checkpoint(origin=note.origin, size=note.size, root=note.root, note=note)
    raise NoteError("no_signature_by_key")


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)
