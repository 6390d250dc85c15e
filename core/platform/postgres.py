"""The PostgreSQL engine: Tortoise's asyncpg client, without the pool's reset query.

asyncpg's pool sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;` each
time a connection goes back to the pool, and Tortoise takes a connection from the pool for each
query outside a transaction: about half the statements of a bot update (4 of 8.5 in
`bench.updates`) were that reset, a round trip each. It undoes session state, and ours keeps
none (`tests/service/test_pooled_connections.py` keeps that true):
- advisory locks are transaction-scoped (`pg_advisory_xact_lock`, freed at COMMIT/ROLLBACK);
- cursors are opened inside transactions, which close them;
- no LISTEN, no session `SET` (the `server_settings` of a connection are start-up parameters,
  which RESET ALL would return to anyway).
A transaction still open on release (a bug) is rolled back as before: asyncpg does that before
the reset query, in `Connection._reset`.
"""

from __future__ import annotations

from asyncpg.connection import Connection
from tortoise.backends.asyncpg.client import AsyncpgDBClient

# The module's name says "postgres": Tortoise's CLI looks for it to wrap migration SQL in a
# transaction.
ENGINE = __name__


class PooledConnection(Connection):  # type: ignore[misc]  # asyncpg ships no types
    def get_reset_query(self) -> str:
        return ""


class IndigoAsyncpgClient(AsyncpgDBClient):
    connection_class = PooledConnection


# What Tortoise reads from an engine module.
client_class = IndigoAsyncpgClient
