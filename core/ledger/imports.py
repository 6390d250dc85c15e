"""Applications that entered the database without the service (a city imported from the previous
system, the demo seed, a benchmark's bulk load) enter the public log as the service would have
written them: a registration per application, with its choices, and each live referral.

Without these leaves the log would start in the middle of the queue, and an outside replay could
not check the first referral against anyone."""

from __future__ import annotations

from core import audit
from core.applications.lifecycle import snapshot as application_snapshot
from core.models import Application, ApplicationChoice, LedgerLeaf, Referral
from core.referrals.records import snapshot as referral_snapshot


async def log_imported(actor: str) -> int:
    """Register every application and referral not yet in the log (a no-op when the log has
    leaves already: imports happen before the service runs). Returns the entries written."""
    if await LedgerLeaf.exists():
        return 0
    choices: dict[int, list[list[object]]] = {}
    for row in (
        await ApplicationChoice.all()
        .order_by("application_id", "rank")
        .values("application_id", "kindergarten_id", "language")
    ):
        choices.setdefault(row["application_id"], []).append(
            [row["kindergarten_id"], str(row["language"])]
        )
    written = 0
    async with audit.transaction() as conn:
        for app in await Application.all().using_db(conn).order_by("submitted_at", "number"):
            await audit.record(
                "application.registered",
                "application",
                app.id,
                actor=actor,
                after=application_snapshot(app)
                | {"reason": "imported", "choices": choices.get(app.id, [])},
                conn=conn,
            )
            written += 1
        for referral in await Referral.all().using_db(conn).order_by("id"):
            await audit.record(
                "referral.issued",
                "referral",
                referral.id,
                actor=actor,
                after=referral_snapshot(referral),
                conn=conn,
            )
            written += 1
    return written
