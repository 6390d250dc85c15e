"""`indigo-verify` against the real /log/* endpoints over a simulated year of a queue:
a fair history replays with no queue jump; a database rewrite, a tampered receipt, a wrong key
or a rewritten history are refused, naming the check that failed."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tortoise.transactions import in_transaction

from core.applications import lifecycle
from core.ledger import log
from core.ledger.leaves import canonical
from core.models import (
    Application,
    ApplicationChoice,
    BenefitStatus,
    City,
    Group,
    Kindergarten,
    LedgerLeaf,
    Offer,
    QueueType,
    Referral,
    ReferralMode,
    Stream,
)
from core.platform import clock
from core.platform.settings import Settings
from core.referrals.departures import dismiss
from core.referrals.lifecycle import decline_referral, enroll, expire_due
from core.referrals.take import take_seat
from core.referrals.undo import undo_dismissal
from core.seats.general_access import decline_offer
from core.seats.releases import release_seats
from tests.fixtures.seats import make_child, make_city, make_group, make_kindergarten, make_parent
from tests.fixtures.worker import make_staff
from verifier import cli, merkle
from verifier.note import public_key_of, verifier_key_string
from verifier.replay import replay
from webhooks.ledger import add_ledger_routes

_numbers = itertools.count(7_000_000)


@dataclass
class Log:
    url: str
    key: str


@pytest.fixture
async def public_log(settings: Settings, db: None) -> AsyncIterator[Log]:
    web_app = web.Application()
    add_ledger_routes(web_app, settings)
    async with TestServer(web_app) as server:
        yield Log(url=str(server.make_url("")).rstrip("/"), key=log.verifier_key(settings))


async def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI in a thread (it uses blocking HTTP; the server runs on this loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, list(args))
    return code, capsys.readouterr().out


async def register(
    city: City, kindergarten: Kindergarten, minutes: int, stream: Stream = Stream.general
) -> Application:
    """An application registered the way the service does (lifecycle `submitted` + choices)."""
    parent = await make_parent()
    child = await make_child(parent)
    await child.fetch_related("person")
    submitted_at = clock.now() - timedelta(days=300) + timedelta(minutes=minutes)
    async with in_transaction() as conn:
        app = Application(
            number=next(_numbers),
            applicant=parent,
            child=child,
            city=city,
            queue_type=QueueType.general,
            birth_year=child.person.birth_date.year,
            stream=stream,
            benefit_category=1 if stream != Stream.general else None,
            benefit_status=BenefitStatus.none,
            referral_mode=ReferralMode.immediately,
            submitted_at=submitted_at,
            valid_until=(submitted_at + timedelta(days=365)).date(),
        )
        await lifecycle.transition(
            conn,
            app,
            lifecycle.Event.submitted,
            actor="parent",
            extra={"choices": [[kindergarten.id, "ru"]]},
        )
        await ApplicationChoice.create(
            application=app,
            kindergarten=kindergarten,
            rank=1,
            language="ru",
            queue_type=app.queue_type,
            birth_year=app.birth_year,
            stream=app.stream,
            submitted_at=app.submitted_at,
            number=app.number,
            active=True,
            using_db=conn,
        )
    return app


async def addressees(release_id: int) -> set[int]:
    return {o.application_id for o in await Offer.filter(release_id=release_id)}


async def live_referral(app: Application) -> Referral:
    return await Referral.get(application_id=app.id, status="awaiting_enrollment")


async def simulated_year(settings: Settings) -> dict[str, Application]:
    """Releases, offers, a declined offer, general access, a stop-list, an expired and a declined
    referral, across months of moved clock. Distribution order: x (extraordinary), f (first
    priority), then a, b, c (general) and d."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group: Group = await make_group(kindergarten)
    apps = {
        "a": await register(city, kindergarten, 1),
        "x": await register(city, kindergarten, 2, Stream.extraordinary),
        "b": await register(city, kindergarten, 3),
        "f": await register(city, kindergarten, 4, Stream.first_priority),
        "c": await register(city, kindergarten, 5),
        "d": await register(city, kindergarten, 6),
    }
    ids = {app.id: name for name, app in apps.items()}

    def names(found: set[int]) -> set[str]:
        return {ids[i] for i in found}

    first = await release_seats(group.id, 2, actor="staff", settings=settings)
    assert names(await addressees(first.id)) == {"x", "f"}
    await take_seat(apps["x"].id, group.id, actor="parent", settings=settings)
    await decline_offer(apps["f"].id, first.id, actor="parent", settings=settings)
    # the declined seat is everybody's now: the last in line takes it during the window
    await take_seat(apps["d"].id, group.id, actor="parent", settings=settings)

    with clock.travel(timedelta(days=3)):
        async with in_transaction() as conn:
            b = await lifecycle.lock_application(conn, apps["b"].id)
            await lifecycle.stop_list(
                conn, b, lifecycle.Event.not_extended, days=None, actor="staff"
            )
        second = await release_seats(group.id, 1, actor="staff", settings=settings)
        assert names(await addressees(second.id)) == {"f"}  # it kept its place
        await take_seat(apps["f"].id, group.id, actor="parent", settings=settings)

    with clock.travel(timedelta(days=40)):
        await expire_due(settings)  # d's, x's and f's referrals expire; seats released again
        returned = await Offer.filter(application_id=apps["a"].id).count()
        assert returned >= 1  # a is next in line for a returned seat

    with clock.travel(timedelta(days=200)):
        await expire_due(settings)
        opened = await release_seats(
            group.id, 1, actor="staff", settings=settings, window=timedelta(0)
        )
        assert not await addressees(opened.id)
        await take_seat(apps["c"].id, group.id, actor="parent", settings=settings)
        referral = await live_referral(apps["c"])
        await decline_referral(
            referral.id, apps["c"].applicant_id, actor="parent", settings=settings
        )
    return apps


async def test_a_year_of_the_queue_replays_with_no_queue_jump(
    public_log: Log, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await simulated_year(settings)

    code, out = await verify(capsys, "replay", "--url", public_log.url, "--key", public_log.key)

    assert code == 0, out
    assert "leaves hash to the signed root" in out
    assert "queue jumps found: 0" in out
    assert "referrals checked: 4" in out  # x, d (general access after a decline), f, c
    assert "releases checked: 7" in out  # 2 by staff, 3 returned seats, 1 at once, 1 declined


async def test_a_child_who_left_frees_a_seat_for_the_next_in_line_and_replays_with_no_jump(
    public_log: Log, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An enrolled child leaves (recorded, undone as a mistake, recorded again); the seat it
    freed is released and offered to the next in line: the verifier accepts the departure
    leaves and finds no jump."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, second = await register(city, kindergarten, 1), await register(city, kindergarten, 2)
    await release_seats(group.id, 1, actor="staff", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    await enroll(referral.id, actor="staff")
    admin = await make_staff(640)
    await dismiss(referral.id, "went_to_school", admin, settings=settings)
    await undo_dismissal(referral.id, admin, settings=settings)
    await dismiss(referral.id, "went_to_school", admin, settings=settings)
    freed = await release_seats(group.id, 1, actor="staff", settings=settings)
    assert await addressees(freed.id) == {second.id}
    await take_seat(second.id, group.id, actor="parent", settings=settings)

    code, out = await verify(capsys, "replay", "--url", public_log.url, "--key", public_log.key)

    assert code == 0, out
    assert "queue jumps found: 0" in out
    assert "referrals checked: 2" in out and "releases checked: 2" in out
    actions = await LedgerLeaf.all().order_by("seq").values_list("action", flat=True)
    assert actions.count("referral.departed") == 2 and "referral.departed.undone" in actions


async def test_a_rewritten_offer_in_the_database_is_found(
    public_log: Log, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = await simulated_year(settings)
    await log.latest_checkpoint(settings)  # signed before the rewrite
    offer = await LedgerLeaf.filter(action="offer.created").order_by("seq").first()
    assert offer is not None
    leaf = json.loads(offer.data)
    victim = leaf["app"]
    later = await LedgerLeaf.filter(app_tag__not=victim, action="application.registered").first()
    assert later is not None
    forged = canonical(leaf | {"app": json.loads(later.data)["app"]}).decode()

    # the data alone: the leaf no longer hashes to its stored hash
    await LedgerLeaf.filter(seq=offer.seq).update(data=forged)
    code, out = await verify(capsys, "replay", "--url", public_log.url, "--key", public_log.key)
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("FAILED leaf_hash")

    # the data and its hash: the leaves no longer give the signed root
    await LedgerLeaf.filter(seq=offer.seq).update(hash=merkle.leaf_hash(forged.encode()).hex())
    code, out = await verify(capsys, "replay", "--url", public_log.url, "--key", public_log.key)
    assert code == 1
    assert "FAILED root" in out

    # and the rewritten history itself gives the offer to a worse-placed application
    rows = await log.leaves(0, await log.tree_size())
    report = replay(json.loads(row["data"]) for row in rows)
    assert report.jumps >= 1
    assert any(f.check == "queue_jump" and victim in f.detail for f in report.findings)
    assert apps  # the scenario ran


async def test_the_checkpoint_state_grows_and_a_forked_history_is_refused(
    public_log: Log,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await register(city, kindergarten, 1)
    state = tmp_path / "state.json"
    args = ("checkpoint", "--url", public_log.url, "--key", public_log.key, "--state", str(state))

    code, out = await verify(capsys, *args)
    assert code == 0, out
    first_size = json.loads(state.read_text())["size"]

    await register(city, kindergarten, 2)
    await register(city, kindergarten, 3)
    code, out = await verify(capsys, *args)
    assert code == 0, out
    assert f"consistent with the size {first_size} seen before" in out
    assert json.loads(state.read_text())["size"] > first_size

    # a state remembering another root for this size: the log rewrote its history
    remembered = json.loads(state.read_text())
    remembered["root"] = "A" * 43 + "="
    state.write_text(json.dumps(remembered))
    code, out = await verify(capsys, *args)
    assert code == 1
    assert out.startswith("FAILED consistency")

    code, out = await verify(
        capsys, "checkpoint", "--url", public_log.url, "--key", other_key(public_log.key)
    )
    assert code == 1
    assert out.startswith("FAILED signature")


async def test_a_parents_receipt_is_checked_and_a_tampered_one_refused(
    public_log: Log,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    app = await register(city, kindergarten, 1)
    await register(city, kindergarten, 2)
    receipt = (await log.receipts_for(app.id, settings))[0]
    text = await log.receipt_text(receipt, await log.latest_checkpoint(settings), settings)
    await register(city, kindergarten, 3)  # the log grows after the receipt
    path = tmp_path / "receipt.json"
    path.write_text(text)

    code, out = await verify(
        capsys, "receipt", str(path), "--url", public_log.url, "--key", public_log.key
    )
    assert code == 0, out
    assert f"application {app.number}" in out and "application.registered" in out

    body = json.loads(text)
    leaf = json.loads(body["leaf"])
    body["leaf"] = canonical(leaf | {"cohort": leaf["cohort"] - 1}).decode()
    path.write_text(json.dumps(body))
    code, out = await verify(
        capsys, "receipt", str(path), "--url", public_log.url, "--key", public_log.key
    )
    assert code == 1
    assert out.startswith("FAILED inclusion")

    code, out = await verify(
        capsys, "receipt", "/nonexistent/receipt.json", "--key", public_log.key
    )
    assert code == 2


def other_key(key: str) -> str:
    """A well-formed verifier key of the same name that did not sign the log."""
    name = key.split("+")[0]
    return verifier_key_string(name, public_key_of(Ed25519PrivateKey.generate()))
