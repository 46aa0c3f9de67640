"""The HTTP endpoint (uvicorn + Bolt's ASGI adapter) on loopback, and `serve()`.

Malformed, slow, oversized, truncated, forged and stale requests go to a real server over
real sockets; none of them may reach Bolt (a counting wrapper around ``App.dispatch``).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.bench.slack import run_load
from assistant.core.config import load_settings
from assistant.core.errors import ConfigError
from assistant.slack.http import EVENTS_PATH, SlackHTTPServer
from assistant.slack.mock import event_body, sign
from assistant.slack.serve import serve, transport
from tests.assistant.slack.slack_helpers import SECRET, mention

TIMEOUT_S = 0.6  # header and body deadlines of the server under test
MAX_BODY = 4096


def _request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body.encode(), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _raw(port: int, data: bytes, *, shut: bool = False, wait_s: float = 10.0) -> bytes:
    """Send raw bytes; return everything the server sends until it closes (or ``wait_s``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            out += b"<no close>"
        return out


def _status(reply: bytes) -> int | None:
    if not reply.startswith(b"HTTP/1.1 "):
        return None
    return int(reply[9:12])


class _Counting:
    """Wraps ``App.dispatch``: how many requests Bolt actually saw."""

    def __init__(self, app) -> None:
        self.n = 0
        self._inner = app.dispatch
        app.dispatch = self

    def __call__(self, req):
        self.n += 1
        return self._inner(req)


@pytest.fixture
def served(harness):
    h = harness()
    seen = _Counting(h.app)
    server = SlackHTTPServer(
        h.app,
        signing_secret=SECRET,
        port=0,
        header_timeout_s=TIMEOUT_S,
        body_timeout_s=TIMEOUT_S,
        max_body_bytes=MAX_BODY,
    ).start()
    yield h, server.port, seen
    server.close()


def _signed_event(text: str = "FINDINGS: Small left pleural effusion.") -> tuple[str, dict]:
    raw = json.dumps(event_body(mention(text)))
    return raw, sign(SECRET, raw)


# -- signatures --------------------------------------------------------------------------------
def test_signed_events_are_acked_forged_and_stale_ones_refused_before_bolt(served, mock):
    h, port, seen = served
    raw, headers = _signed_event()
    assert _request(port, "POST", EVENTS_PATH, raw, sign("wrong", raw))[0] == 401
    stale = sign(SECRET, raw, timestamp=int(time.time()) - 6 * 60)
    assert _request(port, "POST", EVENTS_PATH, raw, stale)[0] == 401
    tampered = raw.replace("Small", "Large")
    assert _request(port, "POST", EVENTS_PATH, tampered, headers)[0] == 401
    no_sig = {"content-type": "application/json"}
    assert _request(port, "POST", EVENTS_PATH, raw, no_sig)[0] == 401
    assert seen.n == 0  # refused by the endpoint itself: Bolt never parsed them
    assert _request(port, "POST", EVENTS_PATH, raw, headers)[0] == 200
    assert h.front.wait_idle(30)
    assert seen.n == 1
    assert len(mock.calls_to("chat.postMessage")) == 1


def test_url_verification_health_and_other_paths(served):
    _, port, _ = served
    raw = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    status, body = _request(port, "POST", EVENTS_PATH, raw, sign(SECRET, raw))
    assert status == 200 and b"abc123" in body
    assert _request(port, "GET", "/healthz") == (200, b"ok")
    assert _request(port, "POST", "/elsewhere", "{}")[0] == 404
    assert _request(port, "GET", EVENTS_PATH)[0] == 405


# -- lengths -----------------------------------------------------------------------------------
HEAD = f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.mark.parametrize(
    "length_header",
    [
        "Content-Length: -1\r\n",
        "Content-Length: -999999\r\n",
        "Content-Length: ten\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "",  # missing
        "Transfer-Encoding: chunked\r\n",
    ],
)
def test_bad_negative_or_missing_length_is_400(served, length_header):
    _, port, seen = served
    body = "5\r\nhello\r\n0\r\n\r\n" if "chunked" in length_header else "hello"
    reply = _raw(port, f"{HEAD}{length_header}\r\n{body}".encode())
    assert _status(reply) == 400, reply[:80]
    assert seen.n == 0


def test_oversized_body_is_413_before_it_is_read(served):
    _, port, seen = served
    # headers only: the 413 must come back without the server waiting for the body
    t0 = time.monotonic()
    reply = _raw(port, f"{HEAD}Content-Length: {10**9}\r\n\r\n".encode())
    assert _status(reply) == 413 and time.monotonic() - t0 < TIMEOUT_S
    raw = json.dumps({"type": "url_verification", "challenge": "x" * MAX_BODY})
    assert _request(port, "POST", EVENTS_PATH, raw, sign(SECRET, raw))[0] == 413
    assert seen.n == 0


# -- slow, truncated, garbage ------------------------------------------------------------------
def test_slow_headers_get_408_and_the_connection_closed(served):
    _, port, seen = served
    t0 = time.monotonic()
    reply = _raw(port, HEAD.encode())  # the header block never ends
    assert _status(reply) == 408 and not reply.endswith(b"<no close>")
    assert time.monotonic() - t0 < 5
    reply = _raw(port, b"")  # connects, sends nothing
    assert _status(reply) == 408
    assert seen.n == 0


def test_slow_headers_on_a_kept_alive_connection_get_408(served):
    _, port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(4096)
        assert _status(first) == 200
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the second request stalls
        rest = b""
        while chunk := s.recv(4096):
            rest += chunk
    assert _status(rest) == 408


def test_slow_body_gets_408_and_nothing_runs(served):
    _, port, seen = served
    raw, headers = _signed_event()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    reply = _raw(port, f"{HEAD}{head}Content-Length: {len(raw)}\r\n\r\n{raw[:20]}".encode())
    assert _status(reply) == 408 and not reply.endswith(b"<no close>")
    assert seen.n == 0


def test_truncated_body_runs_nothing_and_the_server_goes_on(served, mock):
    _, port, seen = served
    raw, headers = _signed_event()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    reply = _raw(
        port, f"{HEAD}{head}Content-Length: {len(raw)}\r\n\r\n{raw[:-10]}".encode(), shut=True
    )
    assert _status(reply) in (None, 400)  # the client left; nothing useful to answer
    time.sleep(0.2)
    assert seen.n == 0 and mock.calls_to("chat.postMessage") == []
    assert _request(port, "GET", "/healthz") == (200, b"ok")


def test_many_slow_clients_do_not_block_a_real_request(served):
    _, port, _ = served
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(30)]
    try:
        for s in stalled:
            s.sendall(HEAD.encode())
        raw = json.dumps({"type": "url_verification", "challenge": "through"})
        status, body = _request(port, "POST", EVENTS_PATH, raw, sign(SECRET, raw))
        assert status == 200 and b"through" in body
    finally:
        for s in stalled:
            s.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=st.binary(min_size=1, max_size=300))
def test_garbage_never_reaches_bolt_nor_stops_the_server(served, junk):
    _, port, seen = served
    reply = _raw(port, junk + b"\r\n\r\n", shut=True)
    status = _status(reply)
    assert status is None or 400 <= status < 500, reply[:80]
    assert seen.n == 0
    assert _request(port, "GET", "/healthz") == (200, b"ok")


# -- serve() -----------------------------------------------------------------------------------
def test_transport_follows_the_app_token(monkeypatch):
    s = load_settings(None, environ={})
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert transport(s) == "http"
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    assert transport(s) == "socket"


class _FakeAssistant:
    def __init__(self, settings):
        from assistant.store import CaseStore

        self.settings = settings
        self.store = CaseStore(settings.store_url)

    def warm(self) -> None:
        pass


def _settings(tmp_path, mock=None, **slack):
    if mock is not None:
        slack.setdefault("api_url", mock.api_url)
    return load_settings(None, environ={}, data_dir=tmp_path, slack=slack)


def test_serve_needs_tokens_from_the_environment(monkeypatch, tmp_path):
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    bot = _FakeAssistant(_settings(tmp_path))
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        serve(bot, port=0)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        serve(bot, port=0)


def test_serve_uses_socket_mode_when_the_app_token_is_set(monkeypatch, mock, tmp_path):
    import slack_bolt.adapter.socket_mode as sm

    started = {}

    class FakeHandler:
        def __init__(self, app, app_token):
            started["app"], started["token"] = app, app_token

        def start(self):
            started["ran"] = True

    monkeypatch.setattr(sm, "SocketModeHandler", FakeHandler)
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    serve(_FakeAssistant(_settings(tmp_path, mock)), port=0)
    assert started["token"] == "xapp-test" and started["ran"]
    assert [c["method"] for c in mock.calls][:1] == ["auth.test"]  # at slack.api_url


def test_serve_runs_http_on_loopback_by_default(monkeypatch, mock, tmp_path):
    seen = {}

    def stop_at_once(self):
        seen["bound"] = self.socket.getsockname()[0]
        raise KeyboardInterrupt

    monkeypatch.setattr(SlackHTTPServer, "serve_forever", stop_at_once)
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    serve(_FakeAssistant(_settings(tmp_path, mock)), port=0)
    assert seen == {"bound": "127.0.0.1"}
    assert [c["method"] for c in mock.calls][:1] == ["auth.test"]


def test_serve_reports_a_taken_port(monkeypatch, mock, tmp_path):
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(ConfigError, match="cannot listen"):
            serve(_FakeAssistant(_settings(tmp_path, mock)), port=taken.getsockname()[1])


def test_serve_explains_a_token_slack_rejects(monkeypatch, mock, tmp_path):
    mock.fail("auth.test", "invalid_auth")
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="could not check SLACK_BOT_TOKEN with Slack at http"):
        serve(_FakeAssistant(_settings(tmp_path, mock)), port=0)


@pytest.mark.parametrize(
    "url", ["http://slack.example.com/api/", "ftp://127.0.0.1/api/", "https://u:p@slack.com/api/"]
)
def test_api_url_must_be_https_except_on_loopback(url, tmp_path):
    with pytest.raises(ConfigError, match="api_url"):
        _settings(tmp_path, api_url=url)
    assert _settings(tmp_path, api_url="https://slack-gov.com/api/").slack.api_url
    assert _settings(tmp_path, api_url="http://127.0.0.1:9/api/").slack.api_url


def test_small_load_run_has_no_duplicates_or_cross_thread_replies(tmp_path):
    """The bench's checks on a small run (its figures are not asserted here)."""
    out = run_load(
        load_settings(None, environ={}, data_dir=tmp_path),
        senders=4,
        events=40,
        cases_per_sender=3,
        duplicate_rate=0.2,
        seed=1,
    )
    assert out["events"] == 40 and out["duplicate_deliveries"] > 0
    assert out["non_200"] == 0
    assert out["replies_missing"] == 0
    assert out["replies_duplicated"] == 0
    assert out["replies_cross_thread"] == 0
    assert out["turns_stored"] == out["unique_messages"]


def test_threads_of_the_server_stop_with_it(harness):
    h = harness()
    before = {t.name for t in threading.enumerate()}
    server = SlackHTTPServer(h.app, signing_secret=SECRET, port=0).start()
    assert _request(server.port, "GET", "/healthz")[0] == 200
    server.close()
    assert "slack-http" not in {t.name for t in threading.enumerate()} - before
