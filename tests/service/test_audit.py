import asyncio

from tortoise.transactions import in_transaction

from core import audit
from core.models import AuditEntry


async def test_chain_verifies_and_detects_tampering(db: None) -> None:
    for n in range(5):
        await audit.record("application.created", "application", n, actor="test", after={"n": n})
    report = await audit.verify_chain()
    assert report.ok and report.entries == 5

    entry = await AuditEntry.get(entity_id="2")
    entry.after = {"n": 99}
    await entry.save()
    report = await audit.verify_chain()
    assert report.broken_at == entry.id


async def test_concurrent_appends_never_fork_the_chain(db: None) -> None:
    async def write(n: int) -> None:
        async with in_transaction() as conn:
            await audit.record("seat.taken", "seat", n, actor="test", conn=conn)

    await asyncio.gather(*(write(n) for n in range(40)))
    report = await audit.verify_chain()
    assert report.ok and report.entries == 40
