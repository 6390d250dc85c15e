"""The embedded defaults work: SQLite instead of PostgreSQL, in-process Redis instead of a server.

Everything runs in subprocesses with a clean environment (DATABASE_URL=sqlite://..., no
REDIS_URL), as on a fresh machine: `indigo migrate`, `indigo seed`, a script through the core
services (submit, position, release, take a seat), and `indigo serve` answering /healthz.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json
from datetime import date, timedelta


async def main():
    from core import audit
    from core.platform import clock
    from core.applications.submission import SubmissionInput, submit
    from core.platform.db import close_db, init_db
    from core.platform.errors import DomainError
    from core.models import (
        Applicant, Application, ApplicationStatus, Child, DocumentKind, Group, GroupKind,
        Notification, Person, Phone, Referral, Seat, SeatStatus, Stream,
    )
    from core.people.applicants import create_document
    from core.queue.order import city_position, interleave
    from core.referrals.take import take_seat
    from core.seats.availability import available_for
    from core.seats.releases import release_seats
    from core.platform.settings import Settings

    settings = Settings(_env_file=None)
    await init_db(settings)
    out = {}
    try:
        year = clock.now().astimezone(settings.tz).year - 3
        group = await Group.filter(birth_year=year, kind=GroupKind.general).order_by("id").first()
        kindergarten = await group.kindergarten
        person = await Person.create(
            iin=None, last_name="Smoke", first_name="Parent", birth_date=date(1990, 5, 17)
        )
        parent = await Applicant.create(person=person, telegram_user_id=990_001)
        for n in ("+77010000001", "+77010000002"):
            await Phone.create(applicant=parent, number=n, verified_at=clock.now())
        born = date(year, 6, 1)
        kid = await Person.create(last_name="Smoke", first_name="Child", birth_date=born)
        child = await Child.create(person=kid, representative=parent)
        certificate = await create_document(parent.id, DocumentKind.birth_certificate, "file-1")
        app = await submit(
            SubmissionInput(
                applicant_id=parent.id,
                child_id=child.id,
                city_id=kindergarten.city_id,
                queue_type="general",
                choices=[(kindergarten.id, str(group.language))],
                legal_representative=True,
                birth_certificate_document_id=certificate.id,
            ),
            settings=settings,
            actor="smoke",
        )
        out["number"] = app.number
        position = await city_position(app, settings)
        out["place"], out["total"] = position.place, position.total
        # The same place computed the slow way: the whole cohort sorted in Python.
        cohort = await Application.filter(
            city_id=app.city_id, queue_type=app.queue_type, birth_year=app.birth_year,
            status=ApplicationStatus.active,
        )
        streams = [
            sorted((a for a in cohort if a.stream == s), key=lambda a: (a.submitted_at, a.number))
            for s in Stream
        ]
        sequence = interleave(streams, settings.first_priority_ratio, len(cohort))
        out["expected_place"] = [a.id for a in sequence].index(app.id) + 1
        out["cohort"] = len(cohort)
        # Position-change notifications: the first pass records every place silently.
        from core.queue.watch import notify_position_changes

        out["position_notes"] = await notify_position_changes(settings, batch=50)
        recorded = await Application.get(id=app.id)
        out["recorded_place"] = recorded.last_notified_position

        # Seats nobody holds (no priority window): this application may take one.
        await release_seats(group.id, 2, actor="smoke", settings=settings, window=timedelta(0))
        options = await available_for(app.id, settings)
        out["options"] = [(o.group_id, o.free, o.via) for o in options]
        referral = await take_seat(app.id, group.id, actor="smoke", settings=settings)
        out["referral_status"] = str(referral.status)
        try:
            await take_seat(app.id, group.id, actor="smoke", settings=settings)
        except DomainError as exc:
            out["again"] = exc.reason
        out["taken"] = await Seat.filter(group_id=group.id, status=SeatStatus.taken).count()
        out["referrals"] = await Referral.filter(application_id=app.id).count()
        out["kinds"] = sorted(
            await Notification.filter(applicant_id=parent.id).values_list("kind", flat=True)
        )
        out["audit_ok"] = (await audit.verify_chain()).ok
        out["group_id"] = group.id
    finally:
        await close_db()
    print("RESULT " + json.dumps(out))


asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "REDIS_", "TELEGRAM_", "GOV_", "SMS_", "HTTP_"))
        and name not in {"BOT_TOKEN"}
    }
    env["DATABASE_URL"] = f"sqlite://{tmp_path}/x.sqlite3"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _indigo(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "indigo.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_migrate_seed_and_core_services_on_sqlite(embedded_env, tmp_path):
    for args in (["migrate"], ["seed", "--kindergartens", "5", "--applications", "200"]):
        done = _indigo(args, embedded_env, tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "x.sqlite3").exists()

    (tmp_path / "smoke.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "smoke.py"],
        env=embedded_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))

    assert out["cohort"] > 1  # the seed filled this cohort
    assert out["place"] == out["expected_place"] and out["total"] == out["cohort"]
    assert (out["position_notes"], out["recorded_place"]) == (0, out["place"])
    assert [out["group_id"], 2, "general"] in out["options"]
    assert out["referral_status"] == "awaiting_enrollment"
    assert out["again"] == "already_has_referral"
    assert (out["taken"], out["referrals"]) == (1, 1)
    assert {"application_registered", "referral_issued"} <= set(out["kinds"])
    assert out["audit_ok"] is True


def test_serve_starts_on_the_embedded_defaults(embedded_env, tmp_path):
    done = _indigo(["migrate"], embedded_env, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    port = _free_port()
    env = embedded_env | {
        "HTTP_PORT": str(port),
        "HTTP_INTERNAL_PORT": str(_free_port()),
        "TELEGRAM_WEBHOOK_SECRET": "smoke-secret",  # serve refuses an open webhook route
        "BOT_TOKEN": "123456:TEST-token-for-the-smoke-run",
        # Nothing listens there: serve must not need Telegram to start (no webhook URL set).
        "TELEGRAM_API_URL": f"http://127.0.0.1:{_free_port()}",
    }
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "indigo.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert status == 200, output[-3000:]
        assert "webhook is not registered" in output
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert server.returncode == 0
