"""Bounds of the public listener: body deadline and size, open connections, quiet peer errors.

aiohttp has no body timeout: a peer that announces 1000 bytes and sends one holds its connection
(and a handler) for ever. Here every body is read whole, under a deadline and a size limit,
before the handler runs (handlers take it with `body_of`); the listener accepts a bounded number
of connections; a peer's disconnects and malformed requests are counted, not logged as ERROR
tracebacks one by one (`indigo_webhook_rejects_total{source="http"}`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from core.platform import metrics

log = logging.getLogger(__name__)

BODY_KEY: web.RequestKey[bytes] = web.RequestKey("indigo_body", bytes)
READ_CHUNK = 16 * 1024
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
    b'{"error":"busy"}\n'
)

BodyLimit = Callable[[web.Request], int]


def body_middleware(timeout_seconds: float, limit: BodyLimit) -> Middleware:
    """Read each request body (at most `limit(request)` bytes) within `timeout_seconds` of the
    headers: 408 and the connection closed when the peer is slower, 413 when it sends more."""

    @web.middleware
    async def bounded_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists:
            request[BODY_KEY] = b""
            return await handler(request)
        max_bytes = limit(request)
        if request.content_length is not None and request.content_length > max_bytes:
            return _refuse(request, 413, "too_large", limit=max_bytes)
        try:
            async with asyncio.timeout(timeout_seconds):
                body = await _read_limited(request, max_bytes)
        except TimeoutError:
            return _refuse(request, 408, "body_timeout")
        except ConnectionError:  # the peer left mid-body: nobody reads this answer, no traceback
            return _refuse(request, 400, "disconnected")
        if body is None:
            return _refuse(request, 413, "too_large", limit=max_bytes)
        request[BODY_KEY] = body
        return await handler(request)

    return bounded_body


def body_of(request: web.Request) -> bytes:
    """The body `body_middleware` read for this request."""
    return request[BODY_KEY]


class BoundedSite(web.TCPSite):
    """A TCP site that holds at most `max_connections` open connections: a connection beyond
    that gets 503 `busy` and is closed at once (slow peers are cut by the body deadline and
    the idle timeout, so a legitimate provider's retry soon gets a slot)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        max_connections: int,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, host, port, reuse_port=reuse_port)
        self.max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= self.max_connections:
                _count("too_many_connections")
                return _Busy()
            return server()

        self._server = await asyncio.get_running_loop().create_server(
            protocol, self._host, self._port, backlog=self._backlog, reuse_port=self._reuse_port
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


class _Busy(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(BUSY_RESPONSE)
        transport.close()


class QuietPeerErrors(logging.Filter):
    """On `aiohttp.server`: a peer that disconnects or sends a malformed request is counted and
    logged at DEBUG without its traceback, instead of one ERROR traceback per connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ConnectionError | HttpProcessingError):
            _count("disconnected" if isinstance(exc, ConnectionError) else "malformed_http")
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info, record.exc_text = None, None
            record.msg = f"{record.msg}: {type(exc).__name__}"
        return True


def quiet_peer_errors() -> None:
    """Install `QuietPeerErrors` once on aiohttp's server logger."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietPeerErrors) for f in server_log.filters):
        server_log.addFilter(QuietPeerErrors())


def _refuse(request: web.Request, status: int, reason: str, **extra: object) -> web.Response:
    _count(reason)
    log.debug("%s %s refused: %s", request.method, request.path, reason)
    response = web.json_response({"error": reason, **extra}, status=status)
    response.force_close()  # the rest of the body is not read: the connection cannot be reused
    return response


def _count(reason: str) -> None:
    metrics.WEBHOOK_REJECTS.labels("http", reason).inc()


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (nothing more is read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
