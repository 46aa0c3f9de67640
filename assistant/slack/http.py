"""The Slack HTTP endpoint: Bolt's ASGI adapter served by uvicorn, with limits in front of it.

    POST /slack/events    events, slash commands (signature checked first, then Bolt)
    GET  /healthz         200 "ok"

What a request must get through before Bolt sees it (each answered in one short line):

* headers complete within ``header_timeout_s`` of the connection (or of the first byte of a
  kept-alive connection's next request), else 408 and the connection is closed; the header
  block is at most 16 KiB (uvicorn/h11: 400 beyond);
* ``Content-Length`` present, a plain decimal and no ``Transfer-Encoding`` (400 otherwise;
  negative or garbled lengths are refused by h11 with 400), at most ``max_body_bytes`` (413,
  answered before a byte of the body is read);
* the whole body within ``body_timeout_s`` (408); a client that disconnects early (a
  truncated body) gets nothing and nothing runs;
* a valid Slack signature no older than 5 minutes (401), checked before the body is parsed.

Bolt's ``dispatch`` runs in a worker thread, so a slow listener never stalls the event loop
that enforces these limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import h11
import uvicorn
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_HEADER_BYTES = 16 * 1024
KEEP_ALIVE_S = 5

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 24\r\nconnection: close\r\n\r\nrequest headers too slow"
)


class _BoltHandler(SlackRequestHandler):
    """Bolt's ASGI adapter, dispatching in a worker thread instead of on the event loop."""

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        body = await request.get_raw_body()
        bolt_request = BoltRequest(
            body=body, query=request.query_string, headers=request.get_headers()
        )
        return await asyncio.to_thread(self.app.dispatch, bolt_request)


def _header(scope: Scope, name: bytes) -> list[bytes]:
    return [v for k, v in scope.get("headers", []) if k == name]


async def _answer(send: Send, status: int, text: str, *, close: bool = False) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def asgi_app(
    app: App,
    *,
    signing_secret: str,
    path: str = EVENTS_PATH,
    max_body_bytes: int = 2 * 1024 * 1024,
    body_timeout_s: float = 10.0,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI application: limits, signature check, then Bolt's adapter."""
    handler = _BoltHandler(app, path=path)
    verifier = SignatureVerifier(signing_secret)

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await handler(scope, receive, send)  # type: ignore[arg-type]
            return
        if scope["type"] != "http":
            return
        method, where = scope["method"], scope["path"]
        if where == HEALTH_PATH and method in ("GET", "HEAD"):
            await _answer(send, 200, "ok")
            return
        if where != path:
            await _answer(send, 404, "not found", close=True)
            return
        if method != "POST":
            await _answer(send, 405, "POST only", close=True)
            return
        lengths = _header(scope, b"content-length")
        if _header(scope, b"transfer-encoding") or len(lengths) != 1:
            await _answer(send, 400, "a Content-Length header is required", close=True)
            return
        raw_length = lengths[0].strip()
        if not raw_length.isdigit():  # h11 refuses these first; kept for other servers
            await _answer(send, 400, "bad Content-Length", close=True)
            return
        length = int(raw_length)
        if length > max_body_bytes:
            await _answer(send, 413, "request too large", close=True)
            return
        body = bytearray()
        try:
            async with asyncio.timeout(body_timeout_s):
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        log.info("slack http: client left before sending the whole body")
                        return
                    body.extend(message.get("body", b""))
                    more = bool(message.get("more_body", False))
                    if len(body) > length:
                        break
        except TimeoutError:
            await _answer(send, 408, "request body too slow", close=True)
            return
        if len(body) != length:
            await _answer(send, 400, "body does not match Content-Length", close=True)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if not verifier.is_valid_request(bytes(body), headers):
            await _answer(send, 401, "invalid signature")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await handler(scope, replay, send)  # type: ignore[arg-type]

    return application


def _protocol(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's header block."""

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._arm()  # the next request on a kept-alive connection
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                log.info("slack http: request headers too slow; connection closed")
                self.transport.write(_TIMEOUT_408)
                self.transport.close()

    return HeaderDeadline


class _Server(uvicorn.Server):
    """uvicorn's server; SIGINT/SIGTERM stop it without re-raising, so callers clean up."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, old in original.items():
                signal.signal(sig, old)


class SlackHTTPServer:
    """The endpoint on ``host:port`` (port 0: any free port, see :attr:`port`).

    The socket is bound at construction (so a taken port fails early); the Bolt app can be
    given then or later with :meth:`attach`.
    """

    def __init__(
        self,
        app: App | None,
        *,
        signing_secret: str,
        host: str = "127.0.0.1",
        port: int = 3000,
        header_timeout_s: float = 10.0,
        body_timeout_s: float = 10.0,
        max_body_bytes: int = 2 * 1024 * 1024,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(2048)
        except OSError:
            self.socket.close()
            raise
        self.host = host
        self.signing_secret = signing_secret
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s
        self.max_body_bytes = max_body_bytes
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        if app is not None:
            self.attach(app)

    def attach(self, app: App) -> None:
        config = uvicorn.Config(
            asgi_app(
                app,
                signing_secret=self.signing_secret,
                max_body_bytes=self.max_body_bytes,
                body_timeout_s=self.body_timeout_s,
            ),
            http=_protocol(self.header_timeout_s),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_keep_alive=KEEP_ALIVE_S,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        self.server = _Server(config)

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM or :meth:`close`."""
        if self.server is None:
            raise RuntimeError("attach a Bolt app first")
        self.server.run(sockets=[self.socket])

    def start(self) -> SlackHTTPServer:
        """Serve in a background thread; returns once it accepts connections."""
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        while self.server is None or not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the Slack HTTP server did not start")
            self._thread.join(0.01)
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)
        self.socket.close()

    def __enter__(self) -> SlackHTTPServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()
