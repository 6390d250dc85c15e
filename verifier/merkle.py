"""RFC 6962 / RFC 9162 Merkle tree hashing and proof verification (standard library only).

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); the tree of n leaves
splits at the largest power of two smaller than n. The service computes its roots and proofs
with these functions, so the log and its verifier cannot disagree on the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims; `reason` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 6962 §2.1); the empty tree's root is SHA-256 of nothing."""
    if not hashes:
        return EMPTY_ROOT
    # Bottom-up with a stack of perfect subtrees: the same tree as the recursive definition.
    stack: list[tuple[int, bytes]] = []  # (height, hash)
    for h in hashes:
        height, node = 0, h
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            node = node_hash(left, node)
            height += 1
        stack.append((height, node))
    _, root = stack.pop()
    while stack:
        _, left = stack.pop()
        root = node_hash(left, root)
    return root


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root a valid inclusion proof of `leaf` at `index` in a tree of `size` implies
    (RFC 9162 §2.1.3.2); raises ProofError when the proof cannot be one."""
    if index < 0 or size <= 0 or index >= size:
        raise ProofError("index_out_of_range")
    _check_hashes([leaf, *proof])
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("proof_too_long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof_too_short")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raises ProofError unless `proof` shows `leaf` at `index` in the tree (`size`, `root`)."""
    _check_hashes([root])
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError("root_mismatch")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raises ProofError unless `proof` shows the tree (size1, root1) is a prefix of
    (size2, root2) (RFC 9162 §2.1.4.2). size1 must be at least 1."""
    _check_hashes(proof)  # roots are only compared, as in transparency-dev/merkle
    if size1 < 0 or size2 < size1:
        raise ProofError("bad_sizes")
    if size1 == 0:
        # Every tree extends the empty one: there is nothing to prove, and RFC 9162 defines no
        # proof for it; callers compare the empty root themselves (EMPTY_ROOT).
        raise ProofError("empty_tree")
    if size1 == size2:
        if proof:
            raise ProofError("proof_not_empty")
        if root1 != root2:
            raise ProofError("root_mismatch")
        return
    if not proof:
        raise ProofError("proof_empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: root1 is itself the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof_too_long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof_too_short")
    if fr != root1:
        raise ProofError("root1_mismatch")
    if sr != root2:
        raise ProofError("root2_mismatch")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError("bad_hash_size")
