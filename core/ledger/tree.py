"""Merkle roots and proofs over a list of leaf hashes (RFC 6962 §2.1.1, §2.1.2).

The hashing is verifier.merkle's, so the service's proofs are exactly what the verifier checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.merkle import node_hash, root_from_hashes, split_point


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


__all__ = ["consistency_proof", "inclusion_proof", "node_hash", "root"]
