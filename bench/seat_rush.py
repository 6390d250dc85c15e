"""The autumn seat rush: 100 seats released in one group, 5,000 parents press "take" at once
through `core.referrals.take_seat`, from 2 OS processes (each its own event loop, Tortoise and
connection pool).

The data: one city, the group's kindergarten queue (birth year, language ru) has 70 eligible
applications, so `release_seats` makes them the 70 priority addressees and opens 30 seats to
general access at once. The 5,000 claimants: the 70 addressees, 4,430 other eligible
applications of the city (same birth year, ru among their choices), 100 that chose only kk
(not addressees of the ru group's release; general access is in any teaching language, so
they may take a general-access seat), and 400 that the rules refuse (stop-listed, "from a
date" in the future, another birth year, a child who already holds a live referral).

Figures: `claims_per_s` (5,000 / wall time of the rush), `p99_ms` per claim (as the parent
waits, including waiting for a connection), `seats_issued` (= 100), `double_allocations`
(seats with two referrals + children with two live referrals; = 0), `fairness_violations`
(a priority seat taken by an application without an offer of that release before the window
ended, or any seat taken by an application the rules did not allow; = 0), `cpu_ms_per_claim`
(the claiming processes' CPU per claim). Baseline in the same run: the same claims fired from
one process.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from tortoise.connection import get_connection

from bench.common import BenchContext, Result, main_for, percentiles, profiled
from bench.load import copy_rows
from core.ledger import log as public_log
from core.ledger.imports import log_imported
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    Child,
    City,
    Group,
    Kindergarten,
    Offer,
    Person,
    Referral,
    Seat,
    SeatRelease,
)
from core.platform import clock
from core.platform.db import close_db, init_db
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats.eligibility import (
    access_problem,
    application_problem,
    group_problem,
)
from core.seats.releases import release_seats
from indigo.runners.serve import run_fast
from verifier.client import leaves_matching, signed
from verifier.replay import Rules, replay

SEATS = 100
CLAIMANTS = 5000
ADDRESSEES = 70
REFUSED = 500
PROCESSES = 2
POOL = 20


async def _populate() -> tuple[int, dict[str, list[int]]]:
    """Returns the group id and application ids by role."""
    year = clock.now().year
    cohort = year - 3
    await City.create(id=1, code="rush", name_ru="Астана", name_kk="Астана")
    await copy_rows(
        Kindergarten,
        [
            {
                "id": k,
                "city_id": 1,
                "name_ru": f"Ясли-сад №{k}",
                "name_kk": f"№{k} бөбекжай",
                "ownership": "state",
                "languages": "kk,ru",
                "address_ru": "-",
                "address_kk": "-",
                "latitude": 51.1,
                "longitude": 71.4,
            }
            for k in (1, 2, 3)
        ],
    )
    group = await Group.create(
        kindergarten_id=1,
        name="Средняя группа",
        birth_year=cohort,
        age_from=3,
        age_to=4,
        language="ru",
        kind="general",
        capacity=SEATS,  # all the released seats fit
    )
    start = clock.now() - timedelta(days=600)
    roles: dict[str, list[int]] = {
        k: []
        for k in (
            "addressee",
            "eligible",
            "stop_listed",
            "from_date",
            "other_year",
            "kk_only",
            "live_referral",
        )
    }
    plan: list[str] = (
        ["addressee"] * ADDRESSEES
        + ["eligible"] * (CLAIMANTS - ADDRESSEES - REFUSED)
        + ["stop_listed"] * 100
        + ["from_date"] * 100
        + ["other_year"] * 100
        + ["kk_only"] * 100
        + ["live_referral"] * 100
    )
    persons, applicants, children, apps, choices = [], [], [], [], []
    for i, role in enumerate(plan, start=1):
        born = date(cohort - 1 if role == "other_year" else cohort, 1 + i % 12, 1 + i % 28)
        persons.append(
            {
                "id": i,
                "iin": None,
                "last_name": "Ахметова",
                "first_name": "Айгерим",
                "birth_date": born,
            }
        )
        applicants.append({"id": i, "telegram_user_id": 20_000_000 + i, "chat_id": 20_000_000 + i})
        children.append({"id": i, "person_id": i, "representative_id": i})
        # Addressees stand first in kindergarten 1's ru queue; the others chose kindergarten 2
        # (and 1 in kk for kk_only, so they are not addressees of the ru group's release; general
        # access is in any teaching language, so they may take its general-access seats).
        submitted = start + timedelta(seconds=i)
        status = "stop_listed" if role == "stop_listed" else "active"
        apps.append(
            {
                "id": i,
                "number": 3_000_000 + i,
                "applicant_id": i,
                "child_id": i,
                "city_id": 1,
                "queue_type": "general",
                "birth_year": born.year,
                "stream": 2,
                "submitted_at": submitted,
                "status": status,
                "referral_mode": "from_date" if role == "from_date" else "immediately",
                "referral_from": clock.now().date() + timedelta(days=90)
                if role == "from_date"
                else None,
                "valid_until": (clock.now() + timedelta(days=200)).date(),
            }
        )
        kg_lang = (
            [(1, "ru")]
            if role == "addressee"
            else [(1, "kk"), (2, "kk")]
            if role == "kk_only"
            else [(2, "ru"), (3, "kk")]
        )
        for rank, (kg, lang) in enumerate(kg_lang, start=1):
            choices.append(
                {
                    "application_id": i,
                    "kindergarten_id": kg,
                    "rank": rank,
                    "language": lang,
                    "queue_type": "general",
                    "birth_year": born.year,
                    "stream": 2,
                    "submitted_at": submitted,
                    "number": 3_000_000 + i,
                    "active": status == "active",
                }
            )
        roles[role].append(i)
    await copy_rows(Person, persons)
    await copy_rows(Applicant, applicants)
    await copy_rows(Child, children)
    await copy_rows(Application, apps)
    await copy_rows(ApplicationChoice, choices)
    # Children holding a live referral elsewhere (kindergarten 3, an older release).
    other = await Group.create(
        kindergarten_id=3,
        name="Другая",
        birth_year=cohort,
        age_from=3,
        age_to=4,
        language="kk",
        kind="general",
        capacity=25,
    )
    release = await SeatRelease.create(
        group_id=other.id,
        kindergarten_id=3,
        seats=100,
        priority_end_at=clock.now(),
        released_by="bench",
    )
    seats = [
        {
            "id": 100_000 + n,
            "release_id": release.id,
            "group_id": other.id,
            "status": "taken",
            "priority_end_at": clock.now(),
            "taken_at": clock.now(),
        }
        for n in range(len(roles["live_referral"]))
    ]
    await copy_rows(Seat, seats)
    await copy_rows(
        Referral,
        [
            {
                "number": f"OLD-{n}",
                "application_id": app_id,
                "seat_id": seats[n]["id"],
                "group_id": other.id,
                "kindergarten_id": 3,
                "status": "awaiting_enrollment",
                "issued_at": clock.now(),
                "expires_at": clock.now() + timedelta(days=7),
            }
            for n, app_id in enumerate(roles["live_referral"])
        ],
    )
    await get_connection("default").execute_script("ANALYZE")
    return group.id, roles


async def _claim_process(database_url: str, group_id: int, ids: list[int], start_at: float) -> Any:
    """One OS process: at wall-clock `start_at`, every claim at once; (outcome, ms) each."""
    # _env_file: an init option of pydantic-settings that mypy (no pydantic plugin) misses.
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    await init_db(settings)
    await Application.all().count()  # connect before the start signal

    async def claim(application_id: int) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            await take_seat(application_id, group_id, actor="bench", settings=settings)
            outcome = "ok"
        except DomainError as exc:
            outcome = f"{exc.reason}:{exc.params.get('why', '')}"
        return outcome, (time.perf_counter() - started) * 1000

    await asyncio.sleep(max(0.0, start_at - time.time()))
    began, cpu = time.time(), time.process_time()
    try:
        with profiled(f"seat_rush_{os.getpid()}", out=sys.stderr):
            out = await asyncio.gather(*(claim(i) for i in ids))
    finally:
        await close_db()
    ended, cpu = time.time(), time.process_time() - cpu
    return {"results": out, "began": began, "ended": ended, "cpu_s": cpu}


async def _rush(ctx: BenchContext, name: str, processes: int) -> dict[str, Any]:
    settings = await ctx.fresh_database(name)
    group_id, roles = await _populate()
    # the rows loaded by COPY enter the public log as the service would have written them
    await log_imported("bench")
    await release_seats(group_id, SEATS, actor="bench", settings=settings)
    claimants = [i for ids in roles.values() for i in ids]
    random.Random(5).shuffle(claimants)
    await close_db()
    url = ctx.database_url(name, POOL)
    start_at = time.time() + 3.0
    parts = [claimants[n::processes] for n in range(processes)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.seat_rush",
            "--claim",
            url,
            str(group_id),
            ",".join(map(str, part)),
            str(start_at),
            stdout=subprocess.PIPE,
        )
        for part in parts
    ]
    outputs = [json.loads((await p.communicate())[0]) for p in procs]
    await init_db(settings)
    results = [tuple(r) for out in outputs for r in out["results"]]
    wall = max(o["ended"] for o in outputs) - min(o["began"] for o in outputs)
    cpu_ms_per_claim = sum(o["cpu_s"] for o in outputs) / len(claimants) * 1000
    checks = await _check(roles, group_id, settings)
    checks["queue_jumps_public_log"] = await public_log_jumps(settings)
    print(f"{name}: queue jumps (public-log replay): {checks['queue_jumps_public_log']}")
    outcomes = Counter(outcome for outcome, _ in results)
    await close_db()
    return {
        "claims_per_s": round(len(results) / wall, 1),
        # the claiming processes' CPU per claim (what caps a rush on a quiet machine)
        "cpu_ms_per_claim": round(cpu_ms_per_claim, 2),
        **{k: v for k, v in percentiles([ms for _, ms in results]).items() if k != "mean_ms"},
        **checks,
        "outcomes": dict(outcomes.most_common()),
    }


async def _check(roles: dict[str, list[int]], group_id: int, settings: Settings) -> dict[str, int]:
    conn = get_connection("default")
    issued = await Referral.filter(group_id=group_id).count()
    doubles = await conn.execute_query_dict(
        "SELECT (SELECT count(*) FROM (SELECT seat_id FROM referral GROUP BY seat_id "
        "HAVING count(*) > 1) s) AS seats, "
        "(SELECT count(*) FROM (SELECT a.child_id FROM referral r JOIN application a "
        "ON a.id = r.application_id WHERE r.status IN ('awaiting_enrollment', "
        "'awaiting_benefit_confirmation') GROUP BY a.child_id HAVING count(*) > 1) c) AS children"
    )
    # kk_only applications are not addressees, but general access is by age and city in any
    # teaching language (`core.seats.eligibility.access_problem`), so they may take its seats.
    allowed = set(roles["addressee"]) | set(roles["eligible"]) | set(roles["kk_only"])
    offers = {(o.release_id, o.application_id) for o in await Offer.all()}
    violations = 0
    for referral in await Referral.filter(group_id=group_id).prefetch_related(
        "seat", "application", "group__kindergarten"
    ):
        seat = referral.seat
        if referral.application_id not in allowed:
            violations += 1  # a claimant the data meant to be refused
            _explain("not a claimant the rules allow", referral, roles)
        elif seat.priority_end_at > referral.issued_at:
            if (seat.release_id, referral.application_id) not in offers or await _refused(
                referral, settings, general_access=False
            ):
                violations += 1  # a priority seat to someone without that release's offer
                _explain("priority seat without an offer", referral, roles)
        elif await _refused(referral, settings, general_access=True):
            violations += 1  # a general-access seat the eligibility rules do not allow
            _explain("general-access seat refused by the rules", referral, roles)
    return {
        "seats_issued": issued,
        "double_allocations": doubles[0]["seats"] + doubles[0]["children"],
        "fairness_violations": violations,
        "addressees_served": await Referral.filter(
            group_id=group_id, application_id__in=roles["addressee"]
        ).count(),
    }


def _explain(what: str, referral: Referral, roles: dict[str, list[int]]) -> None:
    role = next((r for r, ids in roles.items() if referral.application_id in ids), "?")
    seat = referral.seat
    print(
        f"  fairness violation: {what}: application {referral.application_id} ({role}), "
        f"seat {seat.id} (priority until {seat.priority_end_at.isoformat()}, taken "
        f"{seat.taken_at.isoformat() if seat.taken_at else '-'}), "
        f"issued {referral.issued_at.isoformat()}"
    )


async def public_log_jumps(settings: Settings) -> int:
    """The fairness figure from the public log alone: every leaf checked against the signed
    checkpoint, then `verifier.replay` (what `indigo-verify replay` runs) counts queue jumps."""
    checkpoint = signed(
        await public_log.latest_checkpoint(settings), public_log.verifier_key(settings)
    )
    rows: list[dict[str, Any]] = []
    while len(rows) < checkpoint.size:
        rows.extend(await public_log.leaves(len(rows), min(checkpoint.size, len(rows) + 1000)))
    report = replay(
        leaves_matching(rows, checkpoint),
        Rules(ratio=settings.first_priority_ratio, tz=settings.tz),
    )
    for finding in report.findings[:5]:
        print(f"  public-log replay: {finding}")
    return report.jumps


async def _refused(referral: Referral, settings: Settings, *, general_access: bool) -> bool:
    """Whether `core.seats.eligibility` refuses the referral's application a seat of its group
    (a general-access one: with the city rule) on the day it was issued. A live
    referral of the child aside: the referral itself is one, and two per child are counted as
    double allocations."""
    app, group = referral.application, referral.group
    today = referral.issued_at.astimezone(settings.tz).date()
    return (
        application_problem(app, today, settings) is not None
        or group_problem(app, group) is not None
        or (general_access and access_problem(app.city_id, group.kindergarten.city_id) is not None)
    )


async def run(ctx: BenchContext, quick: bool) -> list[Result]:
    figures = await _rush(ctx, "bench_seat_rush", PROCESSES)
    baseline = await _rush(ctx, "bench_seat_rush_1p", 1)
    return [
        Result(
            name="seat_rush",
            params={
                "seats": SEATS,
                "claimants": CLAIMANTS,
                "processes": PROCESSES,
                "pool_per_process": POOL,
            },
            figures=figures,
            baseline={
                "one_process_claims_per_s": baseline["claims_per_s"],
                "one_process_p99_ms": baseline["p99_ms"],
                "one_process_seats_issued": baseline["seats_issued"],
                "one_process_double_allocations": baseline["double_allocations"],
                "one_process_fairness_violations": baseline["fairness_violations"],
                "one_process_queue_jumps_public_log": baseline["queue_jumps_public_log"],
            },
            target=(
                "seats_issued = 100, double_allocations = 0, fairness_violations = 0, "
                "queue_jumps_public_log = 0"
            ),
        )
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--claim":
        url, group, ids, start = sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
        # On the service processes' loop (uvloop; BENCH_LOOP=asyncio for the standard one).
        claims = _claim_process(url, group, [int(i) for i in ids.split(",")], start)
        out = asyncio.run(claims) if os.environ.get("BENCH_LOOP") == "asyncio" else run_fast(claims)
        print(json.dumps(out))
    else:
        main_for(run)
