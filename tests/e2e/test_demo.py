"""`indigo demo --headless`: a fresh SQLite database, everything started, usable over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from devtools.client import E2EClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def _read_until(stream: asyncio.StreamReader, prefix: str, seconds: float) -> tuple[str, str]:
    seen = ""
    async with asyncio.timeout(seconds):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the demo ended before printing {prefix!r}:\n{seen}")
            seen += line
            if line.startswith(prefix):
                return line.removeprefix(prefix).strip(), seen


async def test_headless_demo_answers_start_in_the_chosen_language(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BOT_TOKEN")}
    env["DATABASE_URL"] = f"sqlite://{tmp_path}/demo.sqlite3"
    env.pop("SANDBOX_PORT", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "indigo.cli",
        "demo",
        "--headless",
        "--applications",
        "200",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        url, printed = await _read_until(process.stdout, "sandbox: ", 120)
        assert "900412412345" in printed  # the personas are listed with their IINs
        async with E2EClient(url, 700001, language_code="en") as parent:
            await parent.send("/start")
            question = await parent.expect("Выберите язык", timeout=20)
            assert question.buttons == ["Қазақ тілі", "Русский язык"]
            await parent.press("Қазақ тілі")
            await parent.expect("Интерфейс тілі", timeout=20)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stdout.read(), 60)
        await asyncio.wait_for(process.wait(), 10)
    assert "demo stopped" in rest.decode()
    assert process.returncode == 0
