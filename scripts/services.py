"""Throwaway PostgreSQL and Redis servers for tests and benchmarks.

Each starts in a temporary directory on a free loopback port and is stopped at exit. PostgreSQL
refuses to run as root, so as root the cluster is owned by and started as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"]


# Ports for our own listeners are picked below the kernel's ephemeral range (where every
# outgoing connection takes its local port) and each test process gets its own slice of them.
# Asking the kernel for port 0 and binding it later raced: between the two, another pytest-xdist
# worker's client connection or listener could take the same port ("address already in use").
PORTS_FROM = 10_000
SLICES = 24


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _slice_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    if worker.startswith("gw") and worker[2:].isdigit():
        return int(worker[2:]) % SLICES
    return (os.getpid() % (SLICES - 8)) + 8  # not a test worker: one of the upper slices


def _candidates() -> Iterator[int]:
    size = max(16, (_ephemeral_low() - PORTS_FROM) // SLICES)
    first = PORTS_FROM + _slice_index() * size
    start = os.getpid() % size  # a restarted process does not reuse its predecessor's ports
    while True:
        for offset in range(size):
            yield first + (start + offset) % size


_ports = _candidates()


def free_port() -> int:
    """A loopback port nobody listens on now, from this process's own slice."""
    for port in _ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (or in TIME_WAIT): the next one
            return port
    raise RuntimeError("unreachable: the candidates never end")


def _pg_tool(name: str) -> str:
    for folder in PG_BIN_DIRS:
        path = Path(folder) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL tool {name} not found; install the postgresql package")
    return found


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


@dataclass
class Postgres:
    port: int
    data_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        subprocess.run(
            [
                _pg_tool("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
        )


def _as_postgres_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="indigo-pg-"))
    data = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres_user(
            [
                _pg_tool("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_postgres_user(
            [
                _pg_tool("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        _wait_port(port, 30)
        yield Postgres(port=port, data_dir=data)
    finally:
        subprocess.run(
            _as_postgres_user([_pg_tool("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Redis:
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server not found: apt-get install -y redis-server")
    port = free_port()
    root = tempfile.mkdtemp(prefix="indigo-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            root,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, 15)
        yield Redis(port=port)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)
