"""`clinassist bench slack`: a bounded load test of the Slack HTTP endpoint on loopback.

Everything runs in this process and on 127.0.0.1: a mock Slack Web API
(:class:`assistant.slack.mock.MockSlackAPI`, also used by the offline test suite), the real Bolt
app behind the real HTTP endpoint of ``assistant.slack.http`` (uvicorn + Bolt's ASGI adapter)
and an ``Assistant`` with a SQLite store in a temporary folder. Senders (20 threads) post signed
events to ``POST /slack/events``: mentions that start cases, thread replies that continue them,
Slack-style retries (``X-Slack-Retry-Num``) and the app_mention + message pair Slack sends for
one message. Then it checks every acknowledgement came back under 3 s and that each user
message got exactly one answer, in its own thread.

The tools are fast fakes that echo a marker (this measures the Slack layer: HTTP, signature
check, de-duplication, queueing, case store, Web API calls); model latency has its own suites.
The baseline is a bare ``ThreadingHTTPServer`` answering 200 on the same loopback.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import secrets
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from assistant.bench.runner import pct
from assistant.core.config import Settings
from assistant.core.types import Echo
from assistant.slack.mock import MockSlackAPI, event_body, sign
from tools.base import ToolContext, tool
from tools.registry import ToolRegistry

ACK_LIMIT_S = 3.0


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
        "ack_p50_ms": round(1000 * pct(acks, 0.5), 1),
        "ack_p95_ms": round(1000 * pct(acks, 0.95), 1),
        "ack_p99_ms": round(1000 * pct(acks, 0.99), 1),
        "ack_max_ms": round(1000 * max(acks), 1),
        "acks_over_3s": sum(1 for a in acks if a >= ACK_LIMIT_S),
        "non_200": sum(1 for s in statuses if s != 200),
        "baseline_ack_p50_ms": round(1000 * statistics.median(base_acks), 1),
        "baseline_ack_p95_ms": round(1000 * pct(base_acks, 0.95), 1),
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
