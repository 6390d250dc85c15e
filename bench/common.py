"""Shared parts of the benchmarks: real services, timing, and the results file.

Each benchmark is a module with `async def run(ctx: BenchContext, quick: bool) -> list[Result]`;
`python -m bench` runs them all, `python -m bench.<name>` one alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.platform.db import close_db, init_db, migrate
from core.platform.settings import Settings
from indigo.runners.serve import run_fast
from scripts.services import postgres_server, redis_server

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Result:
    name: str
    params: dict[str, Any]
    figures: dict[str, Any]
    baseline: dict[str, Any] = field(default_factory=dict)
    target: str = ""


@dataclass
class BenchContext:
    pg_url: str
    redis_url: str
    admin_url: str  # for CREATE DATABASE

    def database_url(self, database: str, pool: int | None = None) -> str:
        url = self.pg_url.rsplit("/", 1)[0] + "/" + database
        return f"{url}?maxsize={pool}" if pool else url

    def settings(self, database: str, *, pool: int | None = None, **overrides: Any) -> Settings:
        # _env_file: an init option of pydantic-settings that mypy (no pydantic plugin) misses.
        return Settings(  # type: ignore[call-arg]
            database_url=self.database_url(database, pool),
            redis_url=self.redis_url,
            bot_token="123456:BENCH",
            otp_secret="bench",
            _env_file=None,
            **overrides,
        )

    async def fresh_database(
        self, name: str, *, pool: int | None = None, **overrides: Any
    ) -> Settings:
        """A new migrated database, initialised for Tortoise in this process."""
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        settings = self.settings(name, pool=pool, **overrides)
        await migrate(settings)
        await init_db(settings)
        return settings


@contextlib.asynccontextmanager
async def bench_context() -> AsyncIterator[BenchContext]:
    pg_env, redis_env = os.environ.get("BENCH_DATABASE_URL"), os.environ.get("BENCH_REDIS_URL")
    with contextlib.ExitStack() as stack:
        if pg_env:
            pg_url = pg_env
        else:
            pg = stack.enter_context(postgres_server())
            pg_url = pg.url("postgres")
        redis_url = redis_env or stack.enter_context(redis_server()).url
        yield BenchContext(pg_url=pg_url, redis_url=redis_url, admin_url=pg_url)
        await close_db()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


# Where the time goes, by package: `BENCH_PROFILE=1 python -m bench.updates --quick` profiles
# the measured part (cProfile) and prints the share of CPU per package (bench/README.md).
_PACKAGES = (
    "aiogram_dialog",
    "aiogram",
    "tortoise",
    "pypika",
    "redis",
    "asyncpg",
    "pydantic",
    "babel",
    "asyncio",
    "uvloop",
    "json",
    "orjson",
    "core",
    "bot",
    "bench",
    "webhooks",
)


def _package_of(filename: str) -> str:
    if filename.startswith("<") or filename == "~":
        return "builtins (sockets, C calls)"
    parts = filename.replace("\\", "/").split("/")
    for name in parts[::-1]:
        if name in _PACKAGES:
            return name
    return "other"


@contextlib.contextmanager
def profiled(name: str, out: TextIO = sys.stdout) -> Iterator[None]:
    """cProfile the block when BENCH_PROFILE is set; print CPU share per package after it."""
    if not os.environ.get("BENCH_PROFILE"):
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        path = f"/tmp/bench_{name}.prof"
        profile.dump_stats(path)
        stats = pstats.Stats(profile)
        by_package: dict[str, float] = {}
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
            package = _package_of(filename)
            by_package[package] = by_package.get(package, 0.0) + tottime
        total = sum(by_package.values()) or 1.0
        print(f"profile of {name} ({path}), CPU {total:.1f} s by package:", file=out)
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1]):
            print(f"  {package:<28} {seconds:7.2f} s {100 * seconds / total:5.1f} %", file=out)


def write_results(results: list[Result]) -> None:
    """Merge into bench/results.json by (name, params), so single runs update their rows."""
    existing: list[dict[str, Any]] = []
    if RESULTS.exists():
        with contextlib.suppress(ValueError):
            existing = json.loads(RESULTS.read_text()).get("benchmarks", [])
    fresh = [asdict(r) for r in results]
    keys = {(r["name"], json.dumps(r["params"], sort_keys=True)) for r in fresh}
    kept = [r for r in existing if (r["name"], json.dumps(r["params"], sort_keys=True)) not in keys]
    RESULTS.write_text(
        json.dumps({"benchmarks": kept + fresh}, indent=2, ensure_ascii=False) + "\n"
    )


def print_table(results: list[Result]) -> None:
    print(f"{'benchmark':<12} {'params':<34} {'figures':<60} baseline")
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        figures = ", ".join(f"{k}={v}" for k, v in r.figures.items())
        baseline = ", ".join(f"{k}={v}" for k, v in r.baseline.items())
        print(f"{r.name:<12} {params:<34} {figures:<60} {baseline}")
        if r.target:
            print(f"{'':<12} target: {r.target}")


def main_for(run: Callable[[BenchContext, bool], Awaitable[list[Result]]]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    async def body() -> list[Result]:
        async with bench_context() as ctx:
            return await run(ctx, args.quick)

    # The event loop of the service processes (`indigo.runners.serve.run_fast`: uvloop);
    # BENCH_LOOP=asyncio measures with the standard one.
    if os.environ.get("BENCH_LOOP") == "asyncio":
        results = asyncio.run(body())
    else:
        results = run_fast(body())
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print_table(results)
    write_results(results)
