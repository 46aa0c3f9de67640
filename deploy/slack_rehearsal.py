"""Rehearse a multi-instance Slack deployment on one machine, before Slack points at it.

    SLACK_BOT_TOKEN=xoxb-rehearsal SLACK_SIGNING_SECRET=… \\
      .venv/bin/python deploy/slack_rehearsal.py --mock-port 58100 \\
        --instance http://127.0.0.1:53001 --instance http://127.0.0.1:53002

It starts a mock Slack Web API on 127.0.0.1:<mock-port> (the instances' ``slack.api_url``
must be ``http://127.0.0.1:<mock-port>/api/``; start them once this prints "mock ready"),
waits for every instance's /healthz, then sends signed events the way Slack does:

1. "hello" to the first instance, Slack's retry of it and the same message as a ``message``
   event to the last one: one answer expected;
2. a knowledge question (``--question``) to the last instance and its retry to the first at
   the same moment: one answer expected, written by the language model (streamed: posted,
   then updated), citing the knowledge base.

It prints a JSON summary and exits 0 when every thread got exactly one answer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.policy.messages import SLACK_STREAMING, SLACK_WORKING
from assistant.slack.mock import MockSlackAPI, event_body, sign

RETRY = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}


def post(base: str, body: dict[str, Any], secret: str, extra: dict[str, str] | None = None) -> int:
    parts = urlsplit(base)
    raw = json.dumps(body)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        conn.request("POST", "/slack/events", raw.encode(), {**sign(secret, raw), **(extra or {})})
        return conn.getresponse().status
    finally:
        conn.close()


def healthy(base: str) -> bool:
    parts = urlsplit(base)
    try:
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=2
        )
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def mention(text: str, ts: str, channel: str) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": "U0DOC",
        "text": f"<@U0BOT> {text}",
        "ts": ts,
        "channel": channel,
    }


def _final(messages: list[dict[str, Any]]) -> bool:
    """No "working" placeholder and no streamed preview left: the answer is complete."""
    text = json.dumps(messages, ensure_ascii=False)
    return bool(messages) and SLACK_WORKING not in text and SLACK_STREAMING not in text


def settle(mock: MockSlackAPI, thread: str, quiet_s: float, timeout_s: float) -> dict[str, Any]:
    """Seconds until the thread's first post and its first answer text (not the "working"
    placeholder); returns once the answer is complete and nothing changed for ``quiet_s``."""
    t0 = time.monotonic()
    out: dict[str, Any] = {"first_post_s": None, "first_text_s": None, "complete_s": None}
    last, since = -1, time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        calls = len(mock.calls)
        shown = [m for m in mock.posted() if m.get("thread_ts") == thread]
        now = round(time.monotonic() - t0, 1)
        if out["first_post_s"] is None and shown:
            out["first_post_s"] = now
        if (
            out["first_text_s"] is None
            and shown
            and SLACK_WORKING not in json.dumps(shown, ensure_ascii=False)
        ):
            out["first_text_s"] = now
        if out["complete_s"] is None and _final(shown):
            out["complete_s"] = now
        if calls != last:
            last, since = calls, time.monotonic()
        elif _final(shown) and time.monotonic() - since >= quiet_s:
            break
        time.sleep(0.05)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mock-port", type=int, required=True)
    ap.add_argument("--instance", action="append", required=True, help="http://host:port")
    ap.add_argument("--question", default="What is a pleural effusion?")
    ap.add_argument("--channel", default="C0REHEARSAL")
    ap.add_argument("--wait-s", type=float, default=300.0)
    args = ap.parse_args()
    token, secret = os.environ.get("SLACK_BOT_TOKEN"), os.environ.get("SLACK_SIGNING_SECRET")
    if not token or not secret:
        print(
            "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (the instances use the same)",
            file=sys.stderr,
        )
        return 2
    first, last = args.instance[0], args.instance[-1]
    with MockSlackAPI(token=token, port=args.mock_port) as mock:
        print(f"mock ready: slack.api_url = {mock.api_url}", flush=True)
        deadline = time.monotonic() + args.wait_s
        while not all(healthy(i) for i in args.instance):
            if time.monotonic() > deadline:
                print("instances did not come up", file=sys.stderr)
                return 1
            time.sleep(0.5)
        base = int(time.time())
        t_hello, t_question = f"{base}.000100", f"{base + 1}.000100"

        hello = event_body(mention("hello", t_hello, args.channel), event_id=f"Ev{base}A")
        assert post(first, hello, secret) == 200
        settle(mock, t_hello, quiet_s=1.0, timeout_s=60)
        again = dict(
            mention("hello", t_hello, args.channel),
            type="message",
            channel_type="channel",
            thread_ts=t_hello,
        )
        retried = [post(last, hello, secret, RETRY), post(last, event_body(again), secret)]

        question = event_body(
            mention(args.question, t_question, args.channel), event_id=f"Ev{base}B"
        )
        both = [
            threading.Thread(target=post, args=(last, question, secret)),
            threading.Thread(target=post, args=(first, question, secret, RETRY)),
        ]
        for t in both:
            t.start()
        for t in both:
            t.join()
        timing = settle(mock, t_question, quiet_s=5.0, timeout_s=args.wait_s)

        posts = mock.calls_to("chat.postMessage")
        per_thread = {
            t: sum(1 for p in posts if p.get("thread_ts") == t) for t in (t_hello, t_question)
        }
        shown = [m for m in mock.posted() if m.get("thread_ts") == t_question]
        final = shown[0]["text"] if shown else ""
        summary = {
            "instances": args.instance,
            "retries_acked": retried,
            "posts_per_thread": per_thread,
            "question_updates": len(mock.calls_to("chat.update")),
            "question_timing_s": timing,
            "question_answer": final[:600],
            "cites_sources": any(
                b.get("type") == "context" and "Sources" in json.dumps(b)
                for m in shown
                for b in m.get("blocks") or []
            ),
        }
        print(json.dumps(summary, indent=2))
        return 0 if per_thread == {t_hello: 1, t_question: 1} else 1


if __name__ == "__main__":
    sys.exit(main())
