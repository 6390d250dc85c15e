"""Pooled PostgreSQL connections go back to the pool without asyncpg's reset query
(`core.platform.postgres`): safe because nothing leaves session state on a connection, and a
transaction left open is still rolled back."""

from __future__ import annotations

import re
from pathlib import Path

from tortoise import connections

from core.platform.postgres import IndigoAsyncpgClient

ROOT = Path(__file__).resolve().parents[2]
# SQL that would outlive its transaction on a pooled connection: session advisory locks,
# session settings, LISTEN, holdable cursors, temporary tables.
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\("
    r"|(?:^|[\s(=,\[]|\b[fr])[\"'`]\s*SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)\w"
    r"|set_config\s*\([^)]*,\s*false\s*\)"
    r"|(?:^|[\s(=,\[]|\b[fr])[\"'`]\s*(UN)?LISTEN\b"
    r"|\bWITH\s+HOLD\b"
    r"|CREATE\s+(TEMP|TEMPORARY)\s+TABLE",
    re.IGNORECASE,
)


def test_no_code_leaves_session_state_on_a_pooled_connection() -> None:
    found = []
    for package in ("core", "bot", "worker", "webhooks", "indigo", "scripts"):
        for path in (ROOT / package).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SESSION_STATE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == [], "session state on a pooled connection needs the reset query back"


async def test_a_transaction_left_open_is_rolled_back_when_the_connection_returns(db) -> None:
    client = connections.get("default")
    assert isinstance(client, IndigoAsyncpgClient)
    pool = client._pool
    assert pool is not None
    conn = await pool.acquire()
    assert conn.get_reset_query() == ""  # no extra round trip per release
    await conn.execute("BEGIN")
    await conn.execute("INSERT INTO city (code, name_ru, name_kk) VALUES ('leak', 'Л', 'Л')")
    await pool.release(conn)

    again = await pool.acquire()
    try:
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT count(*) FROM city WHERE code = 'leak'") == 0
    finally:
        await pool.release(again)
