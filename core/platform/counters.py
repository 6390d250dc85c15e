"""Named counters (application numbers, referral serials): sequential, never reused.

PostgreSQL: one sequence per counter, created on first use and OWNED BY `counter.value`;
SQLite (one writer): the `counter` row itself. Infrastructure, kept apart from the rules that
take the numbers (submission, seat taking).
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

_SEQUENCES_READY: set[tuple[str, str]] = set()


async def prepare_counter(name: str, first: int) -> None:
    """Create the counter's sequence (PostgreSQL) outside any transaction, if not yet done:
    call before a transaction that takes numbers (cheap after the first call)."""
    conn = _root(get_connection("default"))
    if conn.capabilities.dialect != "postgres":
        return
    try:
        await _ensure_sequence(name, first, conn)
    except Exception:  # lost a creation race: it exists now
        await _ensure_sequence(name, first, conn)


async def next_number(name: str, first: int, *, conn: BaseDBAsyncClient) -> int:
    """The next value of a named counter (`first` the first time): sequential, never reused.

    PostgreSQL: a sequence (`nextval` takes no lock, so concurrent submissions do not queue
    on a counter row). A number taken by a transaction that then rolls back is skipped, not
    given again: numbers are increasing and unique, with a gap after a rolled-back
    submission (a refusal raised before the number is taken leaves none). SQLite (one
    writer): the `counter` row, gap-free."""
    if not name.isidentifier():
        raise ValueError("counter names are identifiers")
    if conn.capabilities.dialect == "postgres":
        sequence = await _ensure_sequence(name, first, conn)
        rows = await conn.execute_query_dict(f"SELECT nextval('{sequence}') AS value")
        return int(rows[0]["value"])
    # An upsert: creating the row and incrementing it are one atomic statement.
    rows = await conn.execute_query_dict(
        f"INSERT INTO counter (name, value) VALUES ('{name}', {int(first)}) "
        "ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value"
    )
    return int(rows[0]["value"])


async def ensure_counter_at_least(
    name: str, value: int, *, conn: BaseDBAsyncClient, first: int
) -> None:
    """Make the next number greater than `value` (after bulk imports, e.g. the seed)."""
    if not name.isidentifier():
        raise ValueError("counter names are identifiers")
    await conn.execute_script(
        f"INSERT INTO counter (name, value) VALUES ('{name}', {int(value)}) "
        f"ON CONFLICT (name) DO UPDATE SET value = "
        f"CASE WHEN counter.value < {int(value)} THEN {int(value)} ELSE counter.value END"
    )
    if conn.capabilities.dialect == "postgres":
        sequence = await _ensure_sequence(name, first, conn)
        # The last number handed out so far (START - 1 when none yet), raised to `value`.
        await conn.execute_query(
            f"SELECT setval('{sequence}', GREATEST($1::bigint, "
            f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            f"FROM {sequence})), true)",
            [int(value)],
        )


# --- Helpers ------------------------------------------------------------------------------------


def _sequence(name: str) -> str:
    return f"{name}_number_seq"


def _root(conn: BaseDBAsyncClient) -> BaseDBAsyncClient:
    """The pooled client behind a transaction's connection. Tortoise has no public accessor:
    `_parent` is the attribute its own transaction wrappers use (declared on the base class)."""
    while getattr(conn, "_parent", None) is not None:
        conn = conn._parent
    return conn


async def _ensure_sequence(name: str, first: int, conn: BaseDBAsyncClient) -> str:
    """The PostgreSQL sequence behind a named counter, created on first use (OWNED BY
    counter.value, so `TRUNCATE counter RESTART IDENTITY` starts it again at `first`).

    Always on the caller's own connection, never a second one from the pool: transactions
    waiting for a pool connection while holding one would exhaust the pool. Inside a
    transaction the creation is wrapped in a savepoint (a concurrent creator makes ours fail
    harmlessly once it commits), and the sequence counts as ready only once it is visible
    (committed). `prepare_counter` creates it outside any transaction, before the hot path."""
    sequence = _sequence(name)
    client = _root(conn)
    key = (str(getattr(client, "database", "")), sequence)
    if key in _SEQUENCES_READY:
        return sequence
    rows = await conn.execute_query_dict("SELECT to_regclass($1) IS NOT NULL AS ready", [sequence])
    if rows[0]["ready"]:
        _SEQUENCES_READY.add(key)
        return sequence
    ddl = (
        f"CREATE SEQUENCE IF NOT EXISTS {sequence} AS bigint START {int(first)} "
        "MINVALUE 1 OWNED BY counter.value"
    )
    in_transaction_ = client is not conn
    if in_transaction_:
        await conn.execute_script("SAVEPOINT indigo_sequence")
    try:
        await conn.execute_script(ddl)
    except Exception:  # created concurrently by another transaction or process
        if not in_transaction_:
            raise
        await conn.execute_script("ROLLBACK TO SAVEPOINT indigo_sequence")
    else:
        if in_transaction_:
            await conn.execute_script("RELEASE SAVEPOINT indigo_sequence")
        else:
            _SEQUENCES_READY.add(key)
    # A database whose counter row ran ahead (before numbers came from the sequence, or
    # `ensure_counter_at_least`): continue after it, never below it. (setval is not
    # transactional.)
    await conn.execute_query(
        f"SELECT setval('{sequence}', c.value, true) FROM counter c, "
        f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last "
        f"FROM {sequence}) s WHERE c.name = $1 AND c.value > s.last",
        [name],
    )
    return sequence
