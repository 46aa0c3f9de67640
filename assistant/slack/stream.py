"""A model-written answer shown in Slack while it is generated.

``Assistant.respond(on_token=...)`` hands over each sentence once it has passed the answer's
support check (tools/answer/); :class:`StreamedReply` posts the first of them, then edits
that message with chat.update at most every ``interval_s`` seconds (Slack rate-limits
updates). It never blocks the generating thread: a small thread does the Web API calls. The
front end then replaces the message with the final answer, identical to a non-streamed one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

Render = Callable[[str], tuple[str, list[dict[str, Any]]]]


@dataclass
class Shown:
    """The message that stands for a turn while it runs ("working…" or the streamed text)."""

    ts: str | None = None
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class StreamedReply:
    """Posts, then updates, one message in a thread as text pieces arrive."""

    def __init__(
        self,
        client: WebClient,
        *,
        channel: str,
        thread_ts: str,
        shown: Shown,
        interval_s: float,
        render: Render,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.shown = shown
        self.interval_s = interval_s
        self.render = render
        self._pieces: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, piece: str) -> None:
        """``on_token``: called from the generating thread; never waits on Slack."""
        with self._lock:
            self._pieces.append(piece)
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(target=self._loop, name="slack-stream", daemon=True)
                self._thread.start()
        self._changed.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            if not self._changed.wait(0.05):
                continue
            self._changed.clear()
            self._show()
            self._stopped.wait(self.interval_s)

    def _show(self) -> None:
        with self._lock:
            text = "".join(self._pieces).strip()
        if not text:
            return
        fallback, blocks = self.render(text)
        with self.shown.lock:
            if self.shown.finished or self._stopped.is_set():
                return
            try:
                if self.shown.ts:
                    self.client.chat_update(
                        channel=self.channel, ts=self.shown.ts, text=fallback, blocks=blocks
                    )
                else:
                    resp = self.client.chat_postMessage(
                        channel=self.channel,
                        thread_ts=self.thread_ts,
                        text=fallback,
                        blocks=blocks,
                        unfurl_links=False,
                    )
                    self.shown.ts = str(resp["ts"])
            except (SlackApiError, OSError) as exc:
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
                log.warning("slack: streamed update failed: %s", error)

    def stop(self) -> None:
        """No more updates (the final message follows)."""
        self._stopped.set()
        self._changed.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(30)
