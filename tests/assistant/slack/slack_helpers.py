"""Helpers for the Slack tests: fake tools, a harness around SlackFrontEnd, event builders."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from slack_bolt import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.service import Assistant
from assistant.slack.app import SlackFrontEnd
from assistant.slack.mock import MockSlackAPI, command_body, event_body, sign
from tools.base import ToolContext, tool
from tools.registry import ToolRegistry

SECRET = "test-signing-secret"
TEAM = "T0TEAM"
PNG = bytes.fromhex(  # a real 32x32 grayscale PNG: attachments are decoded when they arrive
    "89504e470d0a1a0a0000000d4948445200000020000000200800000000561125280000001249444154"
    "789c63601805a360148c02ec00000420000186b33d440000000049454e44ae426082"
)
HEATMAP = b"\x89PNG\r\n\x1a\n" + b"heatmap-bytes" * 8


class ToolLog:
    """What the fake tools saw, and a gate that can hold a case's turn."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()


LOG = ToolLog()


@tool
def classify_image(attachment: str, heatmap: bool = True, *, ctx: ToolContext) -> dict[str, Any]:
    """Fake classifier: writes a heatmap PNG like the real tool."""
    LOG.calls.append(("classify_image", {"attachment": attachment}, ctx.case_id))
    out = Path(ctx.settings.data_dir) / "heatmaps" / f"{attachment[:12]}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(HEATMAP)
    return {
        "label": "PNEUMONIA",
        "probabilities": {"NORMAL": 0.1, "PNEUMONIA": 0.9},
        "model": "fake@1",
        "in_distribution": True,
        "heatmap": str(out),
    }


@tool
def extract_entities(text: str = "", attachment: str = "", *, ctx: ToolContext) -> dict[str, Any]:
    """Fake NER: one finding; 'HOLD' waits for the gate; 'LONG' returns a very long summary."""
    LOG.calls.append(("extract_entities", {"text": text, "attachment": attachment}, ctx.case_id))
    if "HOLD" in text:
        LOG.entered.set()
        LOG.gate.wait(20)
    data = ctx.load_blob(attachment).decode("utf-8", "replace") if attachment else text
    ents = [
        {"text": "pleural effusion", "label": "FINDING", "start": 0, "end": 16, "negated": False},
        {"text": "pneumothorax", "label": "FINDING", "start": 20, "end": 32, "negated": True},
    ]
    summary = ("word " * 3000).strip() if "LONG" in data else f"Read: {data[:80]}"
    return {"entities": ents, "summary": summary}


def fake_registry() -> ToolRegistry:
    return ToolRegistry([classify_image, extract_entities])


class Harness:
    """A SlackFrontEnd wired to the mock API, plus helpers to send it signed requests."""

    def __init__(self, mock: MockSlackAPI, settings: Settings, **options: Any) -> None:
        self.mock = mock
        self.settings = settings
        self.bot = Assistant(
            settings,
            llm=options.pop("llm", None) or ScriptedLLM(),
            embedder=HashingEmbedder(),
            registry=options.pop("registry", None) or fake_registry(),
        )
        self.client = WebClient(token=mock.token, base_url=mock.api_url)
        options.setdefault("working_after_s", 30.0)
        self.front = SlackFrontEnd(
            self.bot, settings, client=self.client, signing_secret=SECRET, **options
        )
        self.app = self.front.app

    def dispatch(self, raw: str, headers: dict[str, str] | None = None) -> BoltResponse:
        hdrs = sign(SECRET, raw) if headers is None else headers
        return self.app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in hdrs.items()}))

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        extra: dict[str, str] | None = None,
        wait: bool = True,
    ) -> BoltResponse:
        raw = json.dumps(event_body(event, event_id=event_id))
        resp = self.dispatch(raw, {**sign(SECRET, raw), **(extra or {})})
        if wait:
            assert self.front.wait_idle(30)
        return resp

    def command(self, text: str, **kw: str) -> BoltResponse:
        raw = command_body(text, **kw)
        headers = sign(SECRET, raw)
        headers["content-type"] = "application/x-www-form-urlencoded"
        return self.dispatch(raw, headers)

    def close(self) -> None:
        self.front.close()
        self.bot.close()


def mention(
    text: str,
    *,
    ts: str = "1700000000.000100",
    channel: str = "C0CLIN",
    user: str = "U0DOC",
    thread_ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@U0BOT> {text}",
        "ts": ts,
        "channel": channel,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    if files:
        ev["files"] = files
    return ev


def message(
    text: str,
    *,
    ts: str,
    channel: str = "C0CLIN",
    user: str = "U0DOC",
    thread_ts: str | None = None,
    channel_type: str = "channel",
    files: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        **extra,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    if files:
        ev["files"] = files
        ev.setdefault("subtype", "file_share")
    return ev


class SlackProcess:
    """A real ``clinassist slack --port 0`` process against the mock Web API (slack.api_url)."""

    def __init__(
        self, tmp: Path, mock: MockSlackAPI, *, name: str = "a", store_url: str | None = None
    ) -> None:
        import os
        import subprocess
        import sys

        import yaml

        folder = tmp / name
        folder.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "data_dir": str(folder / "var"),
            "embeddings": {"backend": "hashing"},
            "llm": {"backend": "scripted"},
            "slack": {"api_url": mock.api_url, "lease_s": 5},
        }
        if store_url:
            config["store"] = {"url": store_url}
        self.config = folder / "config.yaml"
        self.config.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CLINASSIST_"))}
        env.update(SLACK_BOT_TOKEN=mock.token, SLACK_SIGNING_SECRET=SECRET)
        self.log = folder / "stderr.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant",
                "--config",
                str(self.config),
                "slack",
                "--port",
                "0",
            ],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 90.0) -> int:
        import re
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", self.log.read_bytes())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"clinassist slack did not start:\n{self.log.read_text()[-3000:]}")

    def post(self, raw: str, headers: dict[str, str]) -> tuple[int, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/slack/events", body=raw.encode(), headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def event(self, body: dict[str, Any], extra: dict[str, str] | None = None) -> int:
        raw = json.dumps(body)
        return self.post(raw, {**sign(SECRET, raw), **(extra or {})})[0]

    def stop(self, *, kill: bool = False) -> int:
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
