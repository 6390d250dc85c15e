"""`indigo serve`: the bot in webhook mode plus every callback, until SIGTERM/SIGINT.

`indigo serve --workers N` starts N such processes listening on the same ports (SO_REUSEPORT:
the kernel spreads connections among them) and sharing one PostgreSQL and one Redis: every
de-duplication (update_id, callback event ids), the per-chat event isolation, the FSM and the
dialog state are in Redis or the database, so any process may take any update. The first
worker registers the webhook. The parent only watches: SIGTERM/SIGINT stop every worker, and a
worker that dies stops the others (the service manager restarts the whole unit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from collections.abc import Coroutine
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, TypeVar

import uvloop
from aiohttp import web

from core.platform.logs import setup_logging
from core.platform.settings import Settings, refuse_default_secrets, refuse_open_webhook
from indigo.app import build_app, close_app
from indigo.runners.signals import stop_on_signals
from webhooks.app import listening, start_web, stop_web
from webhooks.telegram import register_webhook

log = logging.getLogger(__name__)

T = TypeVar("T")
STOP_TIMEOUT_S = 30.0  # a worker finishing its updates after SIGTERM, then it is killed


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop's event loop (a service process)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def serve(settings: Settings, *, reuse_port: bool = False, register: bool = True) -> None:
    refuse_default_secrets(settings)
    refuse_open_webhook(settings)  # this process mounts the Telegram webhook route
    app = await build_app(settings)
    stop = asyncio.Event()
    stop_on_signals(stop)
    runners: list[web.AppRunner] = []
    try:
        runners = await start_web(app, reuse_port=reuse_port)
        log.info("serving on %s", listening(settings))
        if register:
            await register_webhook(app.bot, app.dispatcher, settings)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await stop_web(runners)
        await close_app(app)


def _worker_main(settings: Settings, index: int, verbose: bool) -> None:
    setup_logging(verbose)  # a spawned process starts without the parent's logging
    with contextlib.suppress(KeyboardInterrupt):
        run_fast(serve(settings, reuse_port=True, register=index == 0))


def start_workers(settings: Settings, workers: int, *, verbose: bool = False) -> list[BaseProcess]:
    """N serving processes on the same ports (spawned: no state shared with this one)."""
    refuse_default_secrets(settings)  # refuse here, once, rather than in every worker
    refuse_open_webhook(settings)
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    for index in range(workers):
        process = context.Process(
            target=_worker_main,
            args=(settings, index, verbose),
            name=f"indigo-serve-{index}",
            daemon=False,
        )
        process.start()
        processes.append(process)
    return processes


def stop_workers(processes: list[BaseProcess], timeout: float = STOP_TIMEOUT_S) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: the worker stops cleanly
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()


def serve_workers(settings: Settings, workers: int, *, verbose: bool = False) -> None:
    """`indigo serve --workers N`: run N workers until a signal or until one of them dies."""
    processes = start_workers(settings, workers, verbose=verbose)
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    log.info("serving with %d workers on %s", workers, listening(settings))
    wait([p.sentinel for p in processes])  # the first worker to end (or all, after a signal)
    if not stopping:
        died = [p.name for p in processes if not p.is_alive()]
        log.error("worker %s ended: stopping the others", ", ".join(died))
    stop_workers(processes)
    if not stopping:
        raise SystemExit(1)
