"""The `indigo` command as an operator meets it on a fresh machine (SQLite embedded default)."""

import os
import re
import subprocess
import sys
from pathlib import Path

INDIGO = [sys.executable, "-c", "from indigo.cli import main; main()"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        INDIGO + args, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite://{tmp_path}/cli.sqlite3"
    env.update(extra)
    return env


def test_a_bad_setting_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = _run(["migrate"], _clean_env(tmp_path, FIRST_PRIORITY_RATIO="three"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "FIRST_PRIORITY_RATIO" in lines[0]


def test_seed_then_position_of_an_application(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    assert _run(["migrate"], env).returncode == 0
    assert _run(["seed", "--kindergartens", "4", "--applications", "150"], env).returncode == 0
    result = _run(["position", "1291900"], env)
    assert result.returncode == 0, result.stderr
    match = re.search(r"place (\d+) of (\d+) in the city", result.stdout)
    assert match and 1 <= int(match.group(1)) <= int(match.group(2))
    assert "kindergarten" in result.stdout
    missing = _run(["position", "1"], env)
    assert missing.returncode != 0 and "no application #1" in missing.stderr
