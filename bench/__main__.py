"""`python -m bench [--quick] [names...]`: every benchmark in order, a table, bench/results.json."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import traceback
from collections.abc import Awaitable, Callable

from bench import broadcast, position, scaling, seat_rush, submit, updates
from bench.common import BenchContext, Result, bench_context, print_table, write_results
from indigo.runners.serve import run_fast

# In the order they run; each module's `run(ctx, quick)` returns its figures.
BENCHMARKS: dict[str, Callable[[BenchContext, bool], Awaitable[list[Result]]]] = {
    "updates": updates.run,
    "submit": submit.run,
    "seat_rush": seat_rush.run,
    "broadcast": broadcast.run,
    "position": position.run,
    "scaling": scaling.run,
}
ORDER = tuple(BENCHMARKS)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (1M position stays)")
    parser.add_argument("names", nargs="*", help=f"a subset of {', '.join(ORDER)}")
    args = parser.parse_args()
    names = args.names or list(ORDER)

    async def body() -> list[Result]:
        results: list[Result] = []
        async with bench_context() as ctx:
            for name in names:
                started = time.perf_counter()
                print(f"== {name} ...", flush=True)
                try:
                    found = await BENCHMARKS[name](ctx, args.quick)
                except Exception:
                    traceback.print_exc()
                    print(f"== {name} FAILED", flush=True)
                    continue
                results.extend(found)
                write_results(found)  # keep what is done even if a later benchmark fails
                print(f"== {name} done in {time.perf_counter() - started:.0f} s", flush=True)
        return results

    results = asyncio.run(body()) if os.environ.get("BENCH_LOOP") == "asyncio" else run_fast(body())
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print_table(results)


if __name__ == "__main__":
    main()
