"""Merkle roots and proofs over a list of leaf hashes (RFC 6962 §2.1.1, §2.1.2).

The hashing is verifier.merkle's, so the service's proofs are exactly what the verifier checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.merkle import HASH_SIZE, node_hash, root_from_hashes, split_point


def root(hashes: Sequence[bytes]) -> bytes:
    return root_from_hashes(hashes)


def inclusion_proof(hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf `index` in the tree of the first `size`
    leaf hashes (0 <= index < size <= len(hashes))."""
    if not 0 <= index < size <= len(hashes):
        raise ValueError("index or size out of range")
    return _path(hashes, index, 0, size)


def consistency_proof(hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) (0 <= first <= second <= len(hashes)); empty for first == 0
    or first == second."""
    if not 0 <= first <= second <= len(hashes):
        raise ValueError("sizes out of range")
    if first == 0 or first == second:
        return []
    return _subproof(hashes, first, 0, second, True)


def _path(hashes: Sequence[bytes], index: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n <= 1:
        return []
    k = split_point(n)
    if index < k:
        return [*_path(hashes, index, lo, lo + k), root_from_hashes(hashes[lo + k : hi])]
    return [*_path(hashes, index - k, lo + k, hi), root_from_hashes(hashes[lo : lo + k])]


def _subproof(hashes: Sequence[bytes], m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if whole else [root_from_hashes(hashes[lo:hi])]
    k = split_point(n)
    if m <= k:
        return [*_subproof(hashes, m, lo, lo + k, whole), root_from_hashes(hashes[lo + k : hi])]
    return [*_subproof(hashes, m - k, lo + k, hi, False), root_from_hashes(hashes[lo : lo + k])]


__all__ = ["CachedTree", "consistency_proof", "inclusion_proof", "node_hash", "root"]


class CachedTree:
    """Leaf hashes held in memory with the roots of complete aligned subtrees memoised, so a
    proof costs O(log² n) hashes once warm instead of rehashing the whole log per request.

    Leaves are append-only; `extend` adds the next ones. The proofs are the same as the
    functions above (a test compares them)."""

    MEMO_FROM = 16  # memoise subtrees of at least this many leaves (about n/8 entries)

    def __init__(self) -> None:
        self._leaves = bytearray()
        self._memo: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self._leaves) // HASH_SIZE

    def leaf(self, index: int) -> bytes:
        return bytes(self._leaves[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def extend(self, hashes: Sequence[bytes]) -> None:
        for h in hashes:
            self._leaves += h

    def reset(self) -> None:
        self._leaves = bytearray()
        self._memo.clear()

    def root(self, size: int) -> bytes:
        return self._root(0, size) if size else root_from_hashes([])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        if not 0 <= index < size <= len(self):
            raise ValueError("index or size out of range")
        proof: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = split_point(hi - lo)
            if index < lo + k:
                proof.append(self._root(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._root(lo, lo + k))
                lo += k
        proof.reverse()
        return proof

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        if not 0 <= first <= second <= len(self):
            raise ValueError("sizes out of range")
        if first == 0 or first == second:
            return []
        proof: list[bytes] = []
        lo, hi, m, whole = 0, second, first, True
        while m != hi - lo:
            k = split_point(hi - lo)
            if m <= k:
                proof.append(self._root(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._root(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        if not whole:
            proof.append(self._root(lo, hi))
        proof.reverse()
        return proof

    def _root(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return self.leaf(lo)
        perfect = n & (n - 1) == 0 and lo % n == 0
        if perfect and n >= self.MEMO_FROM:
            cached = self._memo.get((lo, n))
            if cached is not None:
                return cached
        k = split_point(n)
        value = node_hash(self._root(lo, lo + k), self._root(lo + k, hi))
        if perfect and n >= self.MEMO_FROM:
            self._memo[(lo, n)] = value
        return value
