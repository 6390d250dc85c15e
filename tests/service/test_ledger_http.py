"""The public log over HTTP: anyone can fetch the checkpoint, the key, proofs and leaves, and
check them with the verifier; malformed requests are a 400 naming the parameter, requests beyond
the log a 404."""

from __future__ import annotations

import base64

from core import audit
from core.platform.settings import Settings
from tests.fixtures.webhooks import CallbacksStack
from verifier import merkle, note


async def _events(n: int) -> None:
    for k in range(n):
        await audit.record("offer.lapsed", "offer", k, actor="system", after={})


async def _text(stack: CallbacksStack, path: str) -> tuple[int, str]:
    async with stack.http.get(stack.web_url + path) as resp:
        return resp.status, await resp.text()


async def _json(stack: CallbacksStack, path: str) -> tuple[int, dict]:
    async with stack.http.get(stack.web_url + path) as resp:
        return resp.status, await resp.json()


async def test_a_reader_verifies_the_checkpoint_and_every_proof_it_serves(
    stack: CallbacksStack, settings: Settings
) -> None:
    await _events(7)
    status, key = await _text(stack, "/log/key")
    assert status == 200
    status, text = await _text(stack, "/log/checkpoint")
    assert status == 200
    checkpoint = note.verify_checkpoint(text, key.strip(), origin=settings.ledger_origin)
    assert checkpoint.size == 7

    status, page = await _json(stack, "/log/leaves?start=0&end=1000")
    assert status == 200 and [leaf["seq"] for leaf in page["leaves"]] == list(range(7))
    for leaf in page["leaves"]:
        leaf_hash = merkle.leaf_hash(leaf["data"].encode())
        assert leaf_hash.hex() == leaf["hash"]
        status, body = await _json(
            stack, f"/log/proof/inclusion?index={leaf['seq']}&size={checkpoint.size}"
        )
        assert status == 200 and base64.b64decode(body["leaf_hash"]) == leaf_hash
        proof = [base64.b64decode(p) for p in body["proof"]]
        merkle.verify_inclusion(leaf_hash, leaf["seq"], checkpoint.size, proof, checkpoint.root)

    old = checkpoint
    await _events(5)
    status, text = await _text(stack, "/log/checkpoint")
    new = note.verify_checkpoint(text, key.strip())
    assert new.size == 12
    status, body = await _json(stack, f"/log/proof/consistency?first={old.size}&second={new.size}")
    assert status == 200 and (body["first"], body["second"]) == (7, 12)
    proof = [base64.b64decode(p) for p in body["proof"]]
    merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)


async def test_malformed_parameters_are_refused_by_name(stack: CallbacksStack) -> None:
    await _events(2)
    for path, parameter in (
        ("/log/proof/inclusion?index=0", "size"),
        ("/log/proof/inclusion?index=-1&size=2", "index"),
        ("/log/proof/inclusion?index=x&size=2", "index"),
        ("/log/proof/inclusion?index=0&size=0", "size"),
        ("/log/proof/inclusion?index=0&size=2&size=2", "size"),
        ("/log/proof/inclusion?index=0&size=2&extra=1", "extra"),
        ("/log/proof/consistency?first=2&second=1", "second"),
        ("/log/leaves?start=0&end=1001", "end"),
        ("/log/leaves?start=5&end=5", "end"),
        ("/log/checkpoint?size=1", "size"),
    ):
        status, body = await _json(stack, path)
        assert (status, body["error"], body["parameter"]) == (400, "bad_parameter", parameter), path


async def test_requests_beyond_the_log_are_not_found(stack: CallbacksStack) -> None:
    await _events(2)
    for path, error in (
        ("/log/proof/inclusion?index=2&size=2", "unknown_index"),
        ("/log/proof/inclusion?index=0&size=3", "unknown_size"),
        ("/log/proof/consistency?first=1&second=3", "unknown_size"),
        ("/log/leaves?start=2&end=10", "unknown_index"),
    ):
        status, body = await _json(stack, path)
        assert (status, body) == (404, {"error": error}), path
