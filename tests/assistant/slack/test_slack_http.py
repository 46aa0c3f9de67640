"""The HTTP transport on loopback, `serve()` choosing Socket Mode or HTTP, and the load test."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from slack_sdk import WebClient

from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.slack_app import EVENTS_PATH, make_http_server, serve, transport
from assistant.slack_bench import event_body, run_load, sign
from tests.assistant.slack.slack_helpers import SECRET, mention


def _request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body.encode(), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture
def served(harness):
    h = harness()
    server = make_http_server(h.app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield h, server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_endpoint_acks_signed_events_and_rejects_forged_ones(served, mock):
    h, port = served
    raw = json.dumps(event_body(mention("FINDINGS: Small left pleural effusion.")))
    assert _request(port, "POST", EVENTS_PATH, raw, sign("wrong", raw))[0] == 401
    assert _request(port, "POST", EVENTS_PATH, raw, sign(SECRET, raw))[0] == 200
    assert h.front.wait_idle(30)
    assert len(mock.calls_to("chat.postMessage")) == 1


def test_http_url_verification_health_and_other_paths(served):
    _, port = served
    raw = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    status, body = _request(port, "POST", EVENTS_PATH, raw, sign(SECRET, raw))
    assert status == 200 and b"abc123" in body
    assert _request(port, "GET", "/healthz") == (200, b"ok")
    assert _request(port, "POST", "/elsewhere", "{}")[0] == 404
    status, _ = _request(port, "POST", EVENTS_PATH, "x", {"Content-Length": str(10**8)})
    assert status == 413


def test_transport_follows_the_app_token(monkeypatch):
    s = load_settings(None, environ={})
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert transport(s) == "http"
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    assert transport(s) == "socket"


class _FakeAssistant:
    def __init__(self, settings):
        self.settings = settings

    def warm(self) -> None:
        pass


def test_serve_needs_tokens_from_the_environment(monkeypatch, tmp_path):
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    bot = _FakeAssistant(load_settings(None, environ={}, data_dir=tmp_path))
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        serve(bot, port=0)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        serve(bot, port=0)


def test_serve_uses_socket_mode_when_the_app_token_is_set(monkeypatch, mock, tmp_path):
    import slack_bolt.adapter.socket_mode as sm

    import assistant.slack_app as mod

    started = {}

    class FakeHandler:
        def __init__(self, app, app_token):
            started["app"], started["token"] = app, app_token

        def start(self):
            started["ran"] = True

    monkeypatch.setattr(sm, "SocketModeHandler", FakeHandler)
    monkeypatch.setattr(
        mod, "WebClient", lambda token: WebClient(token=token, base_url=mock.api_url)
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    serve(_FakeAssistant(load_settings(None, environ={}, data_dir=tmp_path)), port=0)
    assert started["token"] == "xapp-test" and started["ran"]
    assert [c["method"] for c in mock.calls][:1] == ["auth.test"]


def test_serve_runs_http_when_no_app_token(monkeypatch, mock, tmp_path):
    import assistant.slack_app as mod

    seen = {}

    def fake_server(app, host, port, **kw):
        server = make_http_server(app, "127.0.0.1", 0)
        seen["port"] = port

        def stop_at_once():
            seen["served"] = True
            raise KeyboardInterrupt

        server.serve_forever = stop_at_once  # type: ignore[method-assign]
        return server

    monkeypatch.setattr(mod, "make_http_server", fake_server)
    monkeypatch.setattr(
        mod, "WebClient", lambda token: WebClient(token=token, base_url=mock.api_url)
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    serve(_FakeAssistant(load_settings(None, environ={}, data_dir=tmp_path)), port=3999)
    assert seen == {"port": 3999, "served": True}


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


def test_serve_explains_a_token_slack_rejects(monkeypatch, mock, tmp_path):
    import assistant.slack_app as mod

    mock.fail("auth.test", "invalid_auth")
    monkeypatch.setattr(
        mod, "WebClient", lambda token: WebClient(token=token, base_url=mock.api_url)
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", mock.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="could not check SLACK_BOT_TOKEN"):
        serve(_FakeAssistant(load_settings(None, environ={}, data_dir=tmp_path)), port=0)
