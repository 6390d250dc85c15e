"""The public log: queue events become leaves without personal data, the service's proofs and
signed checkpoints verify with the independent verifier, a rewrite of the database is caught,
and concurrent appends keep the leaf indexes continuous."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from tortoise import Tortoise

from core import audit, jobs
from core.applications.submission import SubmissionInput, submit
from core.ledger import log, tree
from core.ledger.leaves import tag
from core.models import (
    Application,
    AuditEntry,
    Group,
    GroupKind,
    Language,
    LedgerCheckpoint,
    LedgerLeaf,
    Person,
    Phone,
    QueueType,
)
from core.platform import clock
from core.platform.settings import Settings, refuse_default_secrets
from core.referrals.lifecycle import decline_referral
from core.referrals.take import take_seat
from core.seats.releases import release_seats
from tests.fixtures import queue as people
from tests.fixtures.database import truncate_all
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from verifier import merkle, note


async def _leaves() -> list[dict[str, Any]]:
    return [json.loads(row.data) for row in await LedgerLeaf.all().order_by("seq")]


async def _event(n: int = 0) -> None:
    """A queue-changing event without an application (an offer lapsing)."""
    await audit.record("offer.lapsed", "offer", 1000 + n, actor="system", after={"n": n})


def _values(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [v for value in obj.values() for v in _values(value)]
    if isinstance(obj, list):
        return [v for value in obj for v in _values(value)]
    return [obj]


async def _checkpoint(settings: Settings) -> note.Checkpoint:
    return note.verify_checkpoint(await log.latest_checkpoint(settings), log.verifier_key(settings))


# --- What a leaf says ---------------------------------------------------------------------------


async def test_a_submission_is_a_leaf_with_its_public_facts_and_no_personal_data(
    db: None, settings: Settings
) -> None:
    city = await people.make_city()
    kg1 = await people.make_kindergarten(city, 1, languages="kk,ru")
    kg2 = await people.make_kindergarten(city, 2, languages="kk")
    parent = await people.make_parent(telegram_user_id=501)
    child = await people.make_child(parent, date(2021, 6, 1))
    app = await submit(
        SubmissionInput(
            applicant_id=parent.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kg1.id, Language.ru), (kg2.id, Language.kk)],
            legal_representative=True,
        ),
        settings=settings,
        actor=f"applicant:{parent.id}",
    )

    [leaf] = await _leaves()
    assert leaf["action"] == "application.registered"
    assert leaf["stream"] == "application"
    assert leaf["seq"] == 0
    assert leaf["app"] == tag(settings.ledger_salt, "app", app.id)
    assert (leaf["cohort"], leaf["queue"], leaf["tier"]) == (2021, "general", "none")
    assert leaf["choices"] == [kg1.id, kg2.id]
    assert leaf["languages"] == ["ru", "kk"] and leaf["city"] == city.id
    await child.fetch_related("person")
    assert leaf["child"] == tag(settings.ledger_salt, "child", child.person.iin)
    assert leaf["status"] == "active"
    assert leaf["key"][0] == 2 and leaf["key"][1].startswith(str(app.submitted_at.year))
    await _assert_no_personal_data()
    [receipt] = await log.receipts_for(app.id, settings)
    assert (receipt.number, receipt.app_tag, receipt.seq) == (app.number, leaf["app"], 0)


async def test_a_release_an_offer_a_referral_and_its_decline_are_leaves_without_personal_data(
    db: None, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, _second = await make_queue(city, kindergarten, 2)
    release = await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    await decline_referral(referral.id, first.applicant_id, actor="parent", settings=settings)

    leaves = await _leaves()
    by_action: dict[str, dict[str, Any]] = {}
    for leaf in leaves:
        by_action.setdefault(leaf["action"], leaf)  # the first of each (a decline re-releases)
    assert [leaf["seq"] for leaf in leaves] == list(range(len(leaves)))
    released = by_action["seats.released"]
    assert (released["kg"], released["group"], released["seats"]) == (
        kindergarten.id,
        group.id,
        1,
    )
    assert released["release"] == release.id and released["cohort"] == group.birth_year
    first_tag = tag(settings.ledger_salt, "app", first.id)
    assert by_action["offer.created"]["app"] == first_tag
    issued = by_action["referral.issued"]
    assert issued["app"] == first_tag and issued["kg"] == kindergarten.id
    assert issued["referral"] == tag(settings.ledger_salt, "referral", referral.id)
    assert issued["release"] == release.id
    declined = by_action["referral.declined"]
    assert declined["referral"] == issued["referral"] and declined["status"] == "declined"
    assert not any(leaf["action"].startswith("seat.") for leaf in leaves)  # not queue facts
    await _assert_no_personal_data()


async def _assert_no_personal_data() -> None:
    """No name, IIN, phone, application or referral number, in any leaf."""
    texts = [row.data for row in await LedgerLeaf.all()]
    assert texts
    secrets: set[str] = set()
    for person in await Person.all():
        secrets |= {s for s in (person.iin, person.last_name, person.first_name) if s}
    secrets |= {phone.number for phone in await Phone.all()}
    secrets |= {phone.number.removeprefix("+") for phone in await Phone.all()}
    numbers = {app.number for app in await Application.all()}
    referral_numbers = {
        str((entry.after or {}).get("number"))
        for entry in await AuditEntry.filter(entity="referral")
    }
    for text in texts:
        assert not any(secret in text for secret in secrets | referral_numbers), text
        values = _values(json.loads(text))
        assert not numbers & {v for v in values if isinstance(v, int)}, text
        assert not {str(n) for n in numbers} & {v for v in values if isinstance(v, str)}, text


async def test_entries_that_do_not_change_the_queue_are_not_leaves(db: None) -> None:
    await audit.record("staff.granted", "staff", 1, actor="system", after={"role": "operator"})
    await audit.record("applicant.consents", "applicant", 1, actor="system", after={})
    assert await LedgerLeaf.all().count() == 0


# --- Proofs --------------------------------------------------------------------------------------


def _reference_root(hashes: list[bytes]) -> bytes:
    """MTH by the recursive definition of RFC 6962 §2.1."""
    if len(hashes) == 1:
        return hashes[0]
    k = merkle.split_point(len(hashes))
    return merkle.node_hash(_reference_root(hashes[:k]), _reference_root(hashes[k:]))


@hypothesis_settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(size=st.integers(1, 200), data=st.data())
def test_proofs_of_every_size_verify_with_the_verifier(size: int, data: st.DataObject) -> None:
    hashes = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(size)]
    root = tree.root(hashes)
    assert root == _reference_root(hashes)
    index = data.draw(st.integers(0, size - 1))
    merkle.verify_inclusion(
        hashes[index], index, size, tree.inclusion_proof(hashes, index, size), root
    )
    first = data.draw(st.integers(1, size))
    merkle.verify_consistency(
        first, size, tree.consistency_proof(hashes, first, size), tree.root(hashes[:first]), root
    )
    # The service's cached tree (memoised subtree roots) serves the very same proofs.
    cached = tree.CachedTree()
    cached.extend(hashes)
    assert cached.root(first) == tree.root(hashes[:first])
    assert cached.inclusion_proof(index, size) == tree.inclusion_proof(hashes, index, size)
    assert cached.consistency_proof(first, size) == tree.consistency_proof(hashes, first, size)
    # A proof for another leaf or another size is refused.
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(
                hashes[other], index, size, tree.inclusion_proof(hashes, index, size), root
            )


async def test_proofs_served_from_the_database_verify_against_signed_checkpoints(
    db: None, settings: Settings
) -> None:
    signed: list[note.Checkpoint] = []
    for n in range(37):
        await _event(n)
        if n in (0, 4, 15, 36):
            signed.append(await _checkpoint(settings))
    hashes = [bytes.fromhex(row.hash) for row in await LedgerLeaf.all().order_by("seq")]
    for checkpoint in signed:
        for index in range(checkpoint.size):
            proof = await log.inclusion(index, checkpoint.size)
            merkle.verify_inclusion(hashes[index], index, checkpoint.size, proof, checkpoint.root)
    for older in signed:
        for newer in signed:
            if older.size < newer.size:
                proof = await log.consistency(older.size, newer.size)
                merkle.verify_consistency(older.size, newer.size, proof, older.root, newer.root)


async def test_proofs_follow_a_restored_log_whose_last_leaf_matches_the_cached_one(
    db: None, settings: Settings
) -> None:
    """A process keeps leaf hashes for proofs; the database under it is replaced by another log
    whose last leaf happens to be the same (generic leaves of the same second). Proofs must be
    of the new log, not of the cached one."""
    base = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)

    async def log_of(first_two_at: datetime) -> note.Note:
        with clock.travel_to(first_two_at):
            await _event(0)
            await _event(1)
        with clock.travel_to(base):
            await _event(2)
        return note.parse_note(await log.sign_checkpoint(settings))

    await log_of(base - timedelta(hours=1))
    await log.inclusion(0, 3)  # the cache now holds this log
    await truncate_all()  # a restore of another log (no process restart)
    restored = await log_of(base - timedelta(hours=2))

    first = await log.leaf_hash_at(0)
    merkle.verify_inclusion(first, 0, 3, await log.inclusion(0, 3), restored.root)


async def test_out_of_range_requests_name_their_reason(db: None, settings: Settings) -> None:
    for n in range(3):
        await _event(n)
    for call, reason in (
        (log.inclusion(3, 3), "unknown_index"),
        (log.inclusion(0, 4), "unknown_size"),
        (log.inclusion(0, 0), "bad_parameter"),
        (log.consistency(1, 4), "unknown_size"),
        (log.consistency(3, 2), "bad_parameter"),
        (log.leaves(3, 10), "unknown_index"),
        (log.leaves(0, 1001), "bad_parameter"),
    ):
        with pytest.raises(log.LedgerError) as refused:
            await call
        assert refused.value.reason == reason
    assert [leaf["seq"] for leaf in await log.leaves(1, 10)] == [1, 2]


# --- Checkpoints ----------------------------------------------------------------------------------


async def test_a_checkpoint_is_signed_by_the_published_key_over_the_whole_log(
    db: None, settings: Settings
) -> None:
    for n in range(5):
        await _event(n)
    text = await log.latest_checkpoint(settings)
    checkpoint = note.verify_checkpoint(text, log.verifier_key(settings))
    hashes = [bytes.fromhex(row.hash) for row in await LedgerLeaf.all().order_by("seq")]
    assert checkpoint.origin == settings.ledger_origin == "indigo.kz/queue/astana"
    assert (checkpoint.size, checkpoint.root) == (5, merkle.root_from_hashes(hashes))
    # Asking again without new leaves gives the same note; the job signs nothing new.
    assert await log.latest_checkpoint(settings) == text
    assert await log.sign_job(settings) == 5
    assert await LedgerCheckpoint.all().count() == 1
    # Another key does not verify it.
    other = Settings(ledger_signing_key="A" * 43 + "=", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(note.NoteError):
        note.verify_checkpoint(text, log.verifier_key(other))


async def test_during_a_key_rotation_both_keys_sign(db: None, settings: Settings) -> None:
    await _event()
    old = "old.example=" + "B" * 43 + "="
    new = "new.example=" + "C" * 43 + "="
    rotating = settings.model_copy(update={"ledger_signing_key": f"{new},{old}"})
    text = await log.sign_checkpoint(rotating)
    for key in log.signing_keys(rotating):
        note.verify_checkpoint(text, key.verifier)
    assert log.verifier_key(rotating).startswith("new.example+")


async def test_a_rewritten_leaf_is_refused_at_the_next_checkpoint(
    db: None, settings: Settings
) -> None:
    for n in range(6):
        await _event(n)
    before = await _checkpoint(settings)
    forged = '{"action":"offer.lapsed","seq":2,"v":1}'
    await LedgerLeaf.filter(seq=2).update(data=forged, hash=merkle.leaf_hash(forged.encode()).hex())
    await _event(99)

    with pytest.raises(log.LedgerError) as refused:
        await log.sign_checkpoint(settings)
    assert refused.value.reason == "inconsistent"
    assert await LedgerCheckpoint.all().count() == 1  # nothing signed over the rewrite
    report = await log.audit_against_log()
    assert not report.ok and report.bad_leaf == 2 and report.bad_checkpoint == before.size


async def test_a_leaf_whose_text_no_longer_matches_its_hash_is_reported(db: None) -> None:
    for n in range(3):
        await _event(n)
    assert (await log.audit_against_log()).ok
    await LedgerLeaf.filter(seq=1).update(data='{"seq":1}')
    assert (await log.audit_against_log()).bad_leaf == 1


async def test_a_rewritten_audit_row_is_reported(db: None, settings: Settings) -> None:
    for n in range(4):
        await _event(n)
    await log.sign_checkpoint(settings)
    leaf = await LedgerLeaf.get(seq=2)
    await AuditEntry.filter(id=leaf.audit_id).update(after={"n": 1234})
    report = await log.audit_against_log()
    assert not report.ok and report.bad_leaf == 2


async def test_the_worker_signs_a_checkpoint_every_minute(db: None, settings: Settings) -> None:
    await _event()
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    assert (await jobs.run_due(settings, now))["ledger_checkpoint"] == 1
    await _event(1)
    assert "ledger_checkpoint" not in await jobs.run_due(settings, now)  # once a minute
    assert (await jobs.run_due(settings, now + timedelta(minutes=1)))["ledger_checkpoint"] == 2
    assert await LedgerCheckpoint.all().count() == 2


def test_production_refuses_the_public_ledger_key_and_salt() -> None:
    base = {
        "bot_token": "1:REAL",
        "otp_secret": "secret",
        "_env_file": None,
    }
    with pytest.raises(SystemExit) as stopped:
        refuse_default_secrets(Settings(**base, ledger_salt="s"))  # type: ignore[arg-type]
    assert "LEDGER_SIGNING_KEY" in str(stopped.value)
    with pytest.raises(SystemExit) as stopped:
        refuse_default_secrets(
            Settings(**base, ledger_signing_key="D" * 43 + "=")  # type: ignore[arg-type]
        )
    assert "LEDGER_SALT" in str(stopped.value)
    refuse_default_secrets(
        Settings(**base, ledger_signing_key="D" * 43 + "=", ledger_salt="s")  # type: ignore[arg-type]
    )


# --- Concurrency --------------------------------------------------------------------------------


@pytest.mark.slow
async def test_concurrent_appends_keep_indexes_continuous_and_checkpoints_consistent(
    db: None, settings: Settings
) -> None:
    assert Tortoise.get_connection("default").capabilities.dialect == "postgres"
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten, kind=GroupKind.general)
    await Group.filter(id=group.id).update(capacity=100)

    async def batch(n: int) -> None:
        async with audit.transaction() as conn:
            for k in range(n % 3 + 1):
                await audit.record("offer.lapsed", "offer", n, actor="t", after={"k": k}, conn=conn)
                await audit.record("staff.granted", "staff", n, actor="t", conn=conn)

    async def signer() -> list[str]:
        notes = []
        for _ in range(5):
            notes.append(await log.sign_checkpoint(settings))
            await asyncio.sleep(0.01)
        return notes

    results = await asyncio.gather(
        *(batch(n) for n in range(60)),
        *(_event(n) for n in range(20)),
        release_seats(group.id, 2, actor="staff:1", settings=settings),
        signer(),
        signer(),
    )
    rows = await LedgerLeaf.all().order_by("seq")
    assert [row.seq for row in rows] == list(range(len(rows)))
    lapsed = sum(row.action == "offer.lapsed" for row in rows)
    assert lapsed == sum(n % 3 + 1 for n in range(60)) + 20
    assert {row.action for row in rows} - {"offer.lapsed"} <= {
        "seats.released",
        "seats.general_access_announced",
    }
    # Leaves follow the audit chain's order.
    audit_ids = [row.audit_id for row in rows]
    assert all(audit_id is not None for audit_id in audit_ids)
    assert audit_ids == sorted(audit_ids)
    assert (await audit.verify_chain()).ok
    final = note.parse_note(await log.sign_checkpoint(settings))
    assert final.size == len(rows)
    signed = sorted(
        {
            note.parse_note(text).size: note.parse_note(text) for r in results[-2:] for text in r
        }.values(),
        key=lambda n: n.size,
    )
    for older in signed:
        if 0 < older.size < final.size:
            proof = await log.consistency(older.size, final.size)
            merkle.verify_consistency(older.size, final.size, proof, older.root, final.root)
    assert (await log.audit_against_log()).ok
