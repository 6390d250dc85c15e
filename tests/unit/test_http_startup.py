"""Start-up refusals of the service processes: an open Telegram webhook, the public OTP secret,
the public log's published signing key and salt."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core.platform.settings import (
    DEFAULT_LEDGER_SALT,
    DEFAULT_LEDGER_SIGNING_KEY,
    DEFAULT_OTP_SECRET,
    Settings,
)
from core.platform.signing import sign, verify
from indigo.runners.polling import run_polling
from indigo.runners.serve import serve
from indigo.runners.worker import run_worker

ROOT = Path(__file__).resolve().parents[2]
Runner = Callable[[Settings], Awaitable[None]]
# A real deployment's own public-log key (32 bytes, base64) and salt.
LEDGER_KEY = "ZGVwbG95bWVudC1vd24tc2lnbmluZy1rZXktMzJieXQ="
LEDGER_SALT = "a-real-salt"


def production(**fields: object) -> Settings:
    """The real Telegram (a token, no local Bot API server); nothing is reachable: a runner that
    got past its checks would fail on connecting, not with the expected one-line exit."""
    values: dict[str, object] = {
        "bot_token": "123456:REAL",
        "database_url": "postgres://nobody@127.0.0.1:1/none",
        "redis_url": "redis://127.0.0.1:1/0",
        "telegram_webhook_secret": ["tg"],
        "otp_secret": "a-real-secret",
        "ledger_signing_key": LEDGER_KEY,
        "ledger_salt": LEDGER_SALT,
        **fields,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_serve_refuses_to_start_without_a_webhook_secret() -> None:
    with pytest.raises(SystemExit) as exited:
        await serve(production(telegram_webhook_secret=[]))
    assert "TELEGRAM_WEBHOOK_SECRET" in str(exited.value.code)


@pytest.mark.parametrize("runner", [serve, run_worker, run_polling], ids=["serve", "worker", "run"])
async def test_every_service_process_refuses_the_default_otp_secret(runner: Runner) -> None:
    with pytest.raises(SystemExit) as exited:
        await runner(production(otp_secret=DEFAULT_OTP_SECRET))
    assert "OTP_SECRET" in str(exited.value.code)


@pytest.mark.parametrize(
    ("field", "default", "variable"),
    [
        ("ledger_signing_key", DEFAULT_LEDGER_SIGNING_KEY, "LEDGER_SIGNING_KEY"),
        ("ledger_salt", DEFAULT_LEDGER_SALT, "LEDGER_SALT"),
    ],
)
@pytest.mark.parametrize("runner", [serve, run_worker, run_polling], ids=["serve", "worker", "run"])
async def test_every_service_process_refuses_the_public_logs_published_key_and_salt(
    runner: Runner, field: str, default: str, variable: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        await runner(production(**{field: default}))
    assert variable in str(exited.value.code)


def test_indigo_serve_without_a_webhook_secret_exits_with_one_clear_line() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "OTP_", "BOT_", "LEDGER_"))
    }
    env.update(
        BOT_TOKEN="123456:REAL",
        OTP_SECRET="a-real-secret",
        LEDGER_SIGNING_KEY=LEDGER_KEY,
        LEDGER_SALT=LEDGER_SALT,
        HTTP_PORT="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "indigo.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_WEBHOOK_SECRET" in lines[0], done.stderr[-2000:]


@pytest.mark.parametrize("signature", ["é" * 64, "Ж", "", "g" * 64, "A" * 63, " " + "a" * 63])
def test_a_malformed_signature_is_a_wrong_signature(signature: str) -> None:
    assert verify(["s"], "100", signature or "x", b"{}", now=100) == "signature"


def test_an_uppercase_hex_signature_is_accepted() -> None:
    assert verify(["s"], "100", sign("s", 100, b"{}").upper(), b"{}", now=100) is None
