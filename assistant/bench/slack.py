"""`clinassist bench slack`: a bounded load test of the Slack HTTP endpoint on loopback.

Everything runs in this process and on 127.0.0.1: a mock Slack Web API (:class:`MockSlackAPI`,
also used by the offline test suite), the real Bolt app behind the real HTTP endpoint of
``assistant.slack.http`` (uvicorn + Bolt's ASGI adapter) and an ``Assistant`` with a SQLite store in a temporary folder. Senders
(20 threads) post signed events to ``POST /slack/events``: mentions that start cases, thread
replies that continue them, Slack-style retries (``X-Slack-Retry-Num``) and the app_mention +
message pair Slack sends for one message. Then it checks every acknowledgement came back under
3 s and that each user message got exactly one answer, in its own thread.

The tools are fast fakes that echo a marker (this measures the Slack layer: HTTP, signature
check, de-duplication, queueing, case store, Web API calls); model latency has its own suites.
The baseline is a bare ``ThreadingHTTPServer`` answering 200 on the same loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import re
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from assistant.bench.runner import pct
from assistant.core.config import Settings
from tools.base import ToolContext, tool
from tools.registry import ToolRegistry

Echo = Callable[[str], None]

ACK_LIMIT_S = 3.0


# ----------------------------------------------------------------------------------------------
# A mock Slack Web API on loopback
# ----------------------------------------------------------------------------------------------
class MockSlackAPI:
    """Enough of Slack's Web API for the app: records every call, serves files, injects faults.

    Point a ``slack_sdk.WebClient`` at it with ``base_url=mock.api_url``. Files registered with
    :meth:`add_file` are served at ``mock.url + "/files/NAME"`` only to ``Bearer <token>``
    (anything else gets an HTML login page, as Slack does).
    """

    def __init__(
        self,
        *,
        token: str = "xoxb-mock",
        team: str = "T0TEAM",
        bot_user: str = "U0BOT",
        port: int = 0,
    ) -> None:
        self.token = token
        self.team = team
        self.bot_user = bot_user
        self.bot_id = "B0BOT"
        self.calls: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}  # file name -> Location (a 302 instead of the file)
        self.downloads: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self._rate_limits: dict[str, list[int]] = {}
        self._errors: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._ts = 0
        # a fresh ts range per mock, so a message of an earlier mock never matches one of this
        self._epoch = 1_900_000_000 + secrets.randbelow(10**6) * 100

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self._server = Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns in 50 ms, not 0.5 s
            name="mock-slack",
            daemon=True,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> MockSlackAPI:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    # -- set-up and inspection ---------------------------------------------------------------
    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next ``times`` calls of ``method`` answer 429 with ``Retry-After``."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._errors.setdefault(method, []).extend([error] * times)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c["params"]
                for c in self.calls
                if c["method"] == method and c["status"] == 200 and c.get("ok")
            ]

    def posted(self) -> list[dict[str, Any]]:
        """Messages as they stand now: chat.postMessage results with chat.update applied."""
        with self._lock:
            msgs: dict[str, dict[str, Any]] = {}
            for c in self.calls:
                if c["status"] != 200 or not c.get("ok"):
                    continue
                if c["method"] == "chat.postMessage":
                    msgs[c["ts"]] = dict(c["params"], ts=c["ts"])
                elif c["method"] == "chat.update" and c["params"].get("ts") in msgs:
                    m = msgs[c["params"]["ts"]]
                    m.update({k: v for k, v in c["params"].items() if k != "ts"})
            return list(msgs.values())

    # -- the server ---------------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{self._epoch + self._ts}.{self._ts:06d}"

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            waits = self._rate_limits.get(method)
            if waits:
                wait = waits.pop(0)
                self.calls.append({"method": method, "params": params, "status": 429, "ts": None})
                return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
            errors = self._errors.get(method)
            error = errors.pop(0) if errors else None
        if headers.get("authorization") != f"Bearer {self.token}":
            error = error or "invalid_auth"
        ts = None
        body: dict[str, Any]
        if error:
            body = {"ok": False, "error": error}
        elif method == "auth.test":
            body = {
                "ok": True,
                "team_id": self.team,
                "user_id": self.bot_user,
                "bot_id": self.bot_id,
                "team": "Mock",
                "user": "clinassist",
                "url": self.url + "/",
            }
        elif method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") if method == "chat.update" else self._next_ts()
            body = {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": self.bot_id},
            }
        elif method == "chat.postEphemeral":
            body = {"ok": True, "message_ts": self._next_ts()}
        elif method == "files.getUploadURLExternal":
            file_id = "F" + secrets.token_hex(5).upper()
            body = {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        elif method == "files.completeUploadExternal":
            files = params.get("files") or []
            body = {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files],
            }
        else:
            body = {"ok": True}
        with self._lock:
            self.calls.append(
                {"method": method, "params": params, "status": 200, "ok": body["ok"], "ts": ts}
            )
        return 200, {}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self,
                status: int,
                body: bytes,
                content_type: str,
                extra: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/files/"):
                    name = path[len("/files/") :]
                    auth = self.headers.get("Authorization", "")
                    mock.downloads.append({"name": name, "authorization": auth})
                    if name in mock.redirects:
                        self._reply(302, b"", "text/plain", {"Location": mock.redirects[name]})
                    elif name not in mock.files:
                        self._reply(404, b"not found", "text/plain")
                    elif auth != f"Bearer {mock.token}":
                        self._reply(200, b"<html><body>Sign in to Slack</body></html>", "text/html")
                    else:
                        data, ctype = mock.files[name]
                        self._reply(200, data, ctype)
                    return
                self._reply(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if path.startswith("/upload/"):
                    mock.uploads[path[len("/upload/") :]] = raw
                    self._reply(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                    return
                if not path.startswith("/api/"):
                    self._reply(404, b"not found", "text/plain")
                    return
                method = path[len("/api/") :]
                ctype = self.headers.get("Content-Type", "")
                params: dict[str, Any]
                if ctype.startswith("application/json"):
                    params = json.loads(raw or b"{}")
                else:
                    params = {
                        k: v[0]
                        for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()
                    }
                for key in ("blocks", "files", "prompts"):
                    if isinstance(params.get(key), str) and params[key][:1] in "[{":
                        params[key] = json.loads(params[key])
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, body = mock._answer(method, params, headers)
                self._reply(
                    status, json.dumps(body).encode(), "application/json; charset=utf-8", extra
                )

        return Handler


# ----------------------------------------------------------------------------------------------
# Signed events
# ----------------------------------------------------------------------------------------------
def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": f"v0={digest}",
    }


def event_body(
    event: dict[str, Any],
    *,
    team: str = "T0TEAM",
    event_id: str | None = None,
    bot_user: str = "U0BOT",
) -> dict[str, Any]:
    """An Events API envelope around ``event``."""
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A0APP",
        "event": dict(event, team=team) if "team" not in event else event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + secrets.token_hex(6).upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True}],
    }


def command_body(
    text: str, *, team: str = "T0TEAM", channel: str = "C0CLIN", user: str = "U0DOC"
) -> str:
    """A form-encoded slash command body for ``/clinassist``."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "channel_id": channel,
            "user_id": user,
            "command": "/clinassist",
            "text": text,
            "response_url": "http://127.0.0.1:9/none",
            "trigger_id": "1.2.3",
        }
    )


# ----------------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------------
_MARK = re.compile(r"MARK-(\d+)-(\d+)-(\d+)")


def _echo_entities(text: str = "", attachment: str = "", *, ctx: ToolContext) -> dict[str, Any]:
    """Echo the marker (bench fake named like the real extract_entities)."""
    found = _MARK.search(text)
    return {"entities": [], "summary": f"seen {found.group(0) if found else 'nothing'}"}


_echo_entities.__name__ = "extract_entities"


def _bench_registry() -> ToolRegistry:
    """Fast fake tools (the router's report path calls extract_entities)."""
    return ToolRegistry([tool(_echo_entities)])


def _post(port: int, body: str, headers: dict[str, str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t0
    finally:
        conn.close()


def _baseline_server() -> ThreadingHTTPServer:
    class Bare(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    return Server(("127.0.0.1", 0), Bare)


def _pct(values: list[float], q: float) -> float:
    return pct(values, q)


def run_load(
    settings: Settings,
    *,
    senders: int = 20,
    events: int = 500,
    cases_per_sender: int = 5,
    duplicate_rate: float = 0.1,
    reply_timeout_s: float = 180.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Send ``events`` signed events from ``senders`` threads; check acks and replies."""
    from slack_sdk import WebClient

    from assistant.core.embeddings import HashingEmbedder
    from assistant.core.llm import ScriptedLLM
    from assistant.service import Assistant
    from assistant.slack.app import SlackFrontEnd
    from assistant.slack.http import SlackHTTPServer

    rng = random.Random(seed)
    secret = secrets.token_hex(16)
    per_sender = events // senders
    # Plan: per sender, a list of (body, headers_extra, message_id or None for duplicates).
    plans: list[list[tuple[dict[str, Any], dict[str, str], str | None]]] = []
    expected: dict[str, tuple[str, str]] = {}  # message id -> (channel, thread_ts)
    for s in range(senders):
        channel = f"C{s:04d}BENCH"
        plan: list[tuple[dict[str, Any], dict[str, str], str | None]] = []
        roots: dict[int, str] = {}
        turn_no = [0] * cases_per_sender
        while len(plan) < per_sender:
            c = len(plan) % cases_per_sender
            if plan and rng.random() < duplicate_rate:
                prev_body, _, _ = plan[rng.randrange(len(plan))]
                if rng.random() < 0.5:  # a retry: same event id, retry headers
                    plan.append(
                        (
                            prev_body,
                            {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
                            None,
                        )
                    )
                else:  # the same message delivered again as a `message` event (new event id)
                    ev = dict(prev_body["event"], type="message", channel_type="channel")
                    if "thread_ts" not in ev:
                        ev["thread_ts"] = ev["ts"]
                    plan.append((event_body(ev), {}, None))
                continue
            ts = f"{1_700_000_000 + s * 1000 + len(plan)}.{c:06d}"
            mark = f"MARK-{s}-{c}-{turn_no[c]}"
            text = f"FINDINGS: {mark}. Small left pleural effusion. No pneumothorax."
            if c not in roots:
                roots[c] = ts
                ev = {
                    "type": "app_mention",
                    "user": "U0DOC",
                    "text": f"<@U0BOT> {text}",
                    "ts": ts,
                    "channel": channel,
                }
            else:
                ev = {
                    "type": "message",
                    "channel_type": "channel",
                    "user": "U0DOC",
                    "text": text,
                    "ts": ts,
                    "thread_ts": roots[c],
                    "channel": channel,
                }
            turn_no[c] += 1
            expected[mark] = (channel, roots[c])
            plan.append((event_body(ev), {}, mark))
        plans.append(plan)

    with tempfile.TemporaryDirectory() as tmp, MockSlackAPI() as mock:
        s_copy = settings.model_copy(update={"data_dir": Path(tmp)})
        s_copy.store.url = None
        bot = Assistant(
            s_copy, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=_bench_registry()
        )
        client = WebClient(token=mock.token, base_url=mock.api_url)
        front = SlackFrontEnd(
            bot, s_copy, client=client, signing_secret=secret, working_after_s=10.0
        )
        server = SlackHTTPServer(front.app, signing_secret=secret, port=0).start()
        port = server.port
        base = _baseline_server()
        threading.Thread(target=base.serve_forever, daemon=True).start()
        try:
            acks: list[float] = []
            statuses: list[int] = []
            base_acks: list[float] = []
            lock = threading.Lock()

            def send(plan: list[tuple[dict[str, Any], dict[str, str], str | None]]) -> None:
                for body, extra, _ in plan:
                    raw = json.dumps(body)
                    status, dt = _post(port, raw, {**sign(secret, raw), **extra})
                    with lock:
                        acks.append(dt)
                        statuses.append(status)

            def send_base(n: int) -> None:
                for _ in range(n):
                    _, dt = _post(
                        base.server_address[1], "{}", {"content-type": "application/json"}
                    )
                    with lock:
                        base_acks.append(dt)

            t0 = time.perf_counter()
            threads = [threading.Thread(target=send, args=(p,)) for p in plans]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            send_s = time.perf_counter() - t0
            idle = front.wait_idle(reply_timeout_s)
            done_s = time.perf_counter() - t0

            bthreads = [
                threading.Thread(target=send_base, args=(per_sender,)) for _ in range(senders)
            ]
            for t in bthreads:
                t.start()
            for t in bthreads:
                t.join()
        finally:
            server.close()
            base.shutdown()
            base.server_close()
            front.close()
            turns_stored = bot.store.count_turns()
            bot.close()

        replies: dict[str, list[tuple[str, str]]] = {}
        for msg in mock.posted():
            for m in _MARK.finditer(str(msg.get("text", ""))):
                replies.setdefault(m.group(0), []).append(
                    (str(msg.get("channel")), str(msg.get("thread_ts")))
                )
        missing = [k for k in expected if k not in replies]
        duplicated = [k for k, v in replies.items() if len(v) > 1]
        cross = [
            k
            for k, v in replies.items()
            if k in expected and any(where != expected[k] for where in v)
        ]
        unexpected = [k for k in replies if k not in expected]

    return {
        "events": len(acks),
        "senders": senders,
        "unique_messages": len(expected),
        "duplicate_deliveries": len(acks) - len(expected),
        "ack_p50_ms": round(1000 * _pct(acks, 0.5), 1),
        "ack_p95_ms": round(1000 * _pct(acks, 0.95), 1),
        "ack_p99_ms": round(1000 * _pct(acks, 0.99), 1),
        "ack_max_ms": round(1000 * max(acks), 1),
        "acks_over_3s": sum(1 for a in acks if a >= ACK_LIMIT_S),
        "non_200": sum(1 for s in statuses if s != 200),
        "baseline_ack_p50_ms": round(1000 * statistics.median(base_acks), 1),
        "baseline_ack_p95_ms": round(1000 * _pct(base_acks, 0.95), 1),
        "send_s": round(send_s, 2),
        "all_answered_s": round(done_s, 2),
        "events_per_s": round(len(acks) / send_s, 1),
        "turns_per_s": round(len(expected) / done_s, 1),
        "turns_stored": turns_stored,
        "replies_missing": len(missing),
        "replies_duplicated": len(duplicated),
        "replies_cross_thread": len(cross),
        "replies_unexpected": len(unexpected),
        "idle": idle,
    }


def bench(settings: Settings, *, quick: bool = False, echo: Echo = print) -> dict[str, Any]:
    """The Slack suite: 500 events from 20 threads (quick: 100 from 10)."""
    out = run_load(settings, senders=10 if quick else 20, events=100 if quick else 500)
    ok = (
        out["acks_over_3s"] == 0
        and out["non_200"] == 0
        and out["replies_missing"] == 0
        and out["replies_duplicated"] == 0
        and out["replies_cross_thread"] == 0
        and out["turns_stored"] == out["unique_messages"]
    )
    out["pass"] = ok
    echo(
        f"slack: {out['events']} events ({out['duplicate_deliveries']} duplicate deliveries) from "
        f"{out['senders']} threads: ack p50 {out['ack_p50_ms']} ms, p95 {out['ack_p95_ms']} ms, max "
        f"{out['ack_max_ms']} ms (bare HTTP p50 {out['baseline_ack_p50_ms']} ms); over 3 s: "
        f"{out['acks_over_3s']}; {out['unique_messages']} turns answered in {out['all_answered_s']} s; "
        f"missing {out['replies_missing']}, duplicated {out['replies_duplicated']}, cross-thread "
        f"{out['replies_cross_thread']} -> {'PASS' if ok else 'FAIL'}"
    )
    return out
