"""The Slack front end (slack-bolt): one thread per case, a thin layer over ``Assistant.respond``.

    clinassist slack [--host H] [--port N]
        Socket Mode when SLACK_APP_TOKEN is set, else HTTP at POST /slack/events on H:N
        (default 127.0.0.1:3000) through assistant.slack.http: uvicorn + Bolt's ASGI adapter,
        request limits and the signature check before Bolt; the Web API host is
        ``slack.api_url`` (slack.com by default).

How a Slack message becomes a turn:

* An ``app_mention`` (in a channel) or a direct message starts a case keyed
  ``slack:<team>:<channel>:<thread_ts>``; a reply in that thread (mention or not) continues it.
  The key is built only from the event's own team and channel, so a user in one channel can
  never reach a case from another channel (``/clinassist case`` checks the same rule).
* The listener only checks, de-duplicates and enqueues, so the HTTP acknowledgement goes back
  at once (well inside Slack's 3 s). Turns run on a small worker pool, serially per case and in
  parallel across cases; an exception in one case is answered in that thread and never stops
  the others.
* Files are downloaded with the bot token (assistant.slack.files: only from files.slack.com or
  a configured host, no redirect to another origin), size-limited, and
  checked by content type and magic bytes before they become ``Attachment`` objects; the router
  sends images/DICOM to ``classify_image`` and reports to ``extract_entities``. A Grad-CAM
  heatmap in a ``classify_image`` result is uploaded back into the thread (files_upload_v2).
* Answers are Block Kit: the emergency banner first, the reply (split into several messages
  when long), a findings table, citations. A "working…" message appears when a turn takes
  longer than ``working_after_s`` and is then replaced by the answer. A model-written answer
  is shown while it is generated (assistant.slack.stream), except in patient mode.
* Each message is claimed once in the case store before it is answered
  (assistant.slack.dedupe): Slack's retries (``X-Slack-Retry-Num``), the app_mention/message
  pair for one message, and retries reaching another instance or a restarted one give one
  turn; a thread's messages are answered in order across instances. Web API rate limits
  (429 + Retry-After) are retried by slack_sdk's RateLimitErrorRetryHandler.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from slack_bolt import App
from slack_bolt import Assistant as BoltAssistant
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from assistant.core.config import Settings
from assistant.core.errors import ConfigError, UserError
from assistant.core.schema import MODES, Mode, Turn
from assistant.core.slack_hosts import DEFAULT_API_URL
from assistant.policy import messages, safety
from assistant.service import Attachment
from assistant.slack.dedupe import SlackLedger
from assistant.slack.files import RATE_LIMIT_RETRIES, FileRejected, download_file, http_client
from assistant.slack.http import EVENTS_PATH, SlackHTTPServer
from assistant.slack.stream import Shown, StreamedReply
from assistant.store import read_front_setting, write_front_setting

log = logging.getLogger(__name__)

__all__ = [
    "EVENTS_PATH",
    "SlackFrontEnd",
    "build_app",
    "case_key",
    "parse_case_key",
    "render_messages",
    "serve",
    "split_text",
]

CASE_PREFIX = "slack"
MAX_SECTION_CHARS = 2900  # Slack: section text <= 3000
MAX_MESSAGE_CHARS = 3800  # body characters per message before the answer is split
MAX_FALLBACK_CHARS = 3000  # the notification ``text`` of a message
MAX_TABLE_ROWS = 20
MAX_CITATIONS = 10  # a context block holds at most 10 elements
DEFAULT_WORKERS = 4
DEFAULT_WORKING_AFTER_S = 1.5
DEFAULT_MAX_PENDING = 1000
MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
DM_WILDCARD = "im"  # in slack.allowed_channels: allow every direct message

# -- user-facing text (Slack-specific; the assistant's own text lives in assistant.policy.messages) ----
TXT_WORKING = ":hourglass_flowing_sand: Working on it…"
TXT_STREAMING = ":hourglass_flowing_sand: still writing; sources and checks follow…"
TXT_STATUS = "is thinking…"
TXT_FAILED = (
    "Sorry, something went wrong while answering in this case, and nothing from this message "
    "was stored. Please try again; other cases are not affected."
)
TXT_BUSY = "I'm handling too many requests right now. Please try again in a minute."
TXT_NOT_ALLOWED_TEAM = "I'm not enabled for this workspace ({team}). Ask your Slack admin to add it to the allowed workspaces."
TXT_NOT_ALLOWED_CHANNEL = (
    "Sorry, I can't work in this channel: it is not on my list of approved channels, so that "
    "patient information stays where it is allowed. Ask your admin to add it, or use an approved channel."
)
TXT_NOT_ALLOWED_USER = (
    "Sorry, you are not on the list of people approved to use me. Ask your admin for access."
)
TXT_FILE_SKIPPED = "I could not use the file *{name}*: {reason}"
TXT_NO_INPUT = "Mention me with a question, paste a report, or attach an image or report file."
TXT_HEATMAP_TITLE = "Grad-CAM heatmap: {label}"
TXT_HEATMAP_ATTACHED = "Grad-CAM heatmap: attached in this thread."
TXT_EMERGENCY_HEADER = ":rotating_light: Possible emergency"
TXT_ASSISTANT_PROMPTS = [
    {
        "title": "Read a report",
        "message": "FINDINGS: Small left pleural effusion. No pneumothorax.",
    },
    {"title": "Ask a question", "message": "What are the causes of a pleural effusion?"},
    {"title": "What can you do?", "message": "What can you do?"},
]
TXT_HELP = """*Clinassist in Slack* (decision support, not a diagnosis)
• Mention me in a channel (or DM me) to start a case: the thread *is* the case.
• Reply in the thread to continue it; attach chest X-rays (PNG, JPEG, DICOM) or reports (txt, pdf).
• `/clinassist case` lists this channel's cases; `/clinassist case THREAD_TS` shows one of them.
• `/clinassist mode` shows this channel's mode; `/clinassist mode clinician|patient` changes it
  (a channel fixed by the configuration, or a patient channel going to clinician mode, needs an admin).
• `/clinassist help` shows this help."""
TXT_UNKNOWN_SUBCOMMAND = "Unknown command `{sub}`. Valid: case, mode, help.\n\n"
TXT_OTHER_CHANNEL = (
    "That case belongs to another channel, and cases can only be opened from their own channel."
)
TXT_NO_CASE = "There is no case for thread {ts} in this channel."
TXT_NO_CASES = "There are no cases in this channel yet. Mention me to start one."
TXT_MODE_SHOW = "Mode in this channel: *{mode}*{pinned}."
TXT_MODE_PINNED = " (fixed by the admin configuration)"
TXT_MODE_SET = (
    "Mode in this channel is now *{mode}*; it applies to every case here from the next message."
)
TXT_MODE_LOCKED = (
    "The mode of this channel is fixed by the admin configuration ({mode}); only a Slack admin "
    "listed in the configuration (slack.admins) can change it from Slack."
)
TXT_MODE_OVERRIDDEN = " (an admin changed it from the configured mode)"
TXT_MODE_ADMIN_ONLY = (
    "This channel is patient-facing: only a Slack admin listed in the configuration "
    "(slack.admins) can switch it to clinician mode."
)


# ----------------------------------------------------------------------------------------------
# Case keys
# ----------------------------------------------------------------------------------------------
_ID_PART = re.compile(r"^[A-Za-z0-9._@-]{1,60}$")


def case_key(team: str, channel: str, thread_ts: str) -> str:
    """``slack:<team>:<channel>:<thread_ts>`` (valid under the store's case-id rules)."""
    for name, part in (("team", team), ("channel", channel), ("thread_ts", thread_ts)):
        if not isinstance(part, str) or not _ID_PART.match(part):
            raise ValueError(f"invalid Slack {name} {part!r}")
    return f"{CASE_PREFIX}:{team}:{channel}:{thread_ts}"


def parse_case_key(key: str) -> tuple[str, str, str] | None:
    """(team, channel, thread_ts) of a Slack case key, or None for any other string."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != CASE_PREFIX:
        return None
    team, channel, ts = parts[1:]
    if not all(_ID_PART.match(p) for p in (team, channel, ts)):
        return None
    return team, channel, ts


# ----------------------------------------------------------------------------------------------
# Text and Block Kit
# ----------------------------------------------------------------------------------------------
def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, so no reply can ping @channel or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def clean_incoming(text: str, bot_user_id: str | None) -> str:
    """A Slack message's text as the user meant it: the bot's mention removed, entities decoded."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return html.unescape(text).strip()


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraph, then line, then word breaks.

    Joining the pieces with nothing between them gives back ``text`` exactly.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > 0:
                cut = at + len(sep)
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(texts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def _emergency_paragraph(paragraphs: list[str], mode: Mode) -> int | None:
    prefix = messages.EMERGENCY[mode].split("{reasons}")[0]
    for i, p in enumerate(paragraphs):
        if p.startswith(prefix):
            return i
    return None


def _findings_table(turn: Turn) -> str | None:
    rows: list[tuple[str, str, str]] = []
    for call in turn.tools:
        if call.name != "extract_entities" or not call.ok or not call.result:
            continue
        for ent in call.result.get("entities", []):
            if not isinstance(ent, dict):
                continue
            flags = [k for k in ("negated", "uncertain", "historical", "family") if ent.get(k)]
            rows.append(
                (str(ent.get("text", "")), str(ent.get("label", "")), ", ".join(flags) or "present")
            )
    if not rows:
        return None
    shown = rows[:MAX_TABLE_ROWS]
    w0 = min(max(len("Finding"), *(len(r[0]) for r in shown)), 32)
    w1 = max(len("Label"), *(len(r[1]) for r in shown))
    lines = [f"{'Finding'.ljust(w0)}  {'Label'.ljust(w1)}  Status"]
    for text, label, status in shown:
        cell = text if len(text) <= w0 else text[: w0 - 1] + "…"
        lines.append(f"{cell.ljust(w0)}  {label.ljust(w1)}  {status}")
    more = f"\n… and {len(rows) - len(shown)} more" if len(rows) > len(shown) else ""
    return "*Findings*\n```" + escape_mrkdwn("\n".join(lines)) + "```" + escape_mrkdwn(more)


def _citation_texts(turn: Turn) -> list[str]:
    out = []
    for i, c in enumerate(turn.citations[:MAX_CITATIONS], 1):
        title = escape_mrkdwn(c.title or c.id)
        source = escape_mrkdwn(c.source)
        if (
            c.url
            and c.url.startswith(("https://", "http://"))
            and "|" not in c.url
            and ">" not in c.url
        ):
            title = f"<{c.url}|{title}>"
        out.append(f"[{i}] {title}" + (f" ({source})" if source else ""))
    return out


def render_messages(turn: Turn, *, heatmap_uploaded: bool = False) -> list[dict[str, Any]]:
    """A turn as one or more Slack messages: ``[{"text": fallback, "blocks": [...]}, ...]``.

    Order inside the first message: emergency banner, reply; the last message ends with the
    findings table, the citations and the review note.
    """
    paragraphs = [p for p in turn.reply.split("\n\n") if p.strip()]
    banner: str | None = None
    if turn.safety.emergency:
        at = _emergency_paragraph(paragraphs, turn.mode)
        banner = (
            paragraphs.pop(at)
            if at is not None
            else "Possible emergency: act on your emergency protocol now."
        )
    level_line: str | None = None  # virtual-doctor triage: where to get care leads, in bold
    if paragraphs and turn.triage is not None and paragraphs[0] in messages.TRIAGE_LEVEL.values():
        level_line = paragraphs.pop(0)
    if turn.citations:
        paragraphs = [p for p in paragraphs if not p.startswith("Sources: ")]
    review = None
    if messages.NEEDS_REVIEW in paragraphs:
        paragraphs.remove(messages.NEEDS_REVIEW)
        review = messages.NEEDS_REVIEW
    if heatmap_uploaded:
        paragraphs = [
            "\n".join(
                TXT_HEATMAP_ATTACHED if line.startswith("Grad-CAM heatmap: ") else line
                for line in p.split("\n")
            )
            for p in paragraphs
        ]
    body = escape_mrkdwn("\n\n".join(paragraphs))
    chunks = [c for c in split_text(body, MAX_MESSAGE_CHARS) if c.strip()] if body else []

    out: list[dict[str, Any]] = []
    for i, chunk in enumerate(chunks or [""]):
        blocks: list[dict[str, Any]] = []
        fallback = chunk
        if i == 0 and banner is not None:
            blocks.append(
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": TXT_EMERGENCY_HEADER, "emoji": True},
                }
            )
            blocks.append(_section(f"*{escape_mrkdwn(banner)}*"))
            fallback = f"{banner}\n\n{chunk}"
        if i == 0 and level_line is not None:
            blocks.append(_section(f"*{escape_mrkdwn(level_line)}*"))
            fallback = f"{level_line}\n\n{chunk}"
        for piece in split_text(chunk, MAX_SECTION_CHARS) if chunk else []:
            if piece.strip():
                blocks.append(_section(piece))
        out.append({"text": fallback[:MAX_FALLBACK_CHARS] or "(empty reply)", "blocks": blocks})
    tail: list[dict[str, Any]] = []
    table = _findings_table(turn)
    if table:
        tail.append({"type": "divider"})
        tail.append(_section(table[:MAX_SECTION_CHARS]))
    cites = _citation_texts(turn)
    if cites:
        tail.append(_context(["*Sources*", *cites][:MAX_CITATIONS]))
    if review:
        tail.append(_context([f":warning: {escape_mrkdwn(review)}"]))
    out[-1]["blocks"].extend(tail)
    if not out[-1]["blocks"]:
        out[-1]["blocks"].append(
            _section(escape_mrkdwn(turn.reply or "(empty reply)")[:MAX_SECTION_CHARS])
        )
    return out


# ----------------------------------------------------------------------------------------------
# Small concurrency helpers
# ----------------------------------------------------------------------------------------------
class CaseQueue:
    """Jobs run serially per key (a case) and in parallel across keys, on a bounded pool."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-case")
        self._queues: dict[str, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self.max_pending = max_pending

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        """False when too many jobs are waiting (the caller tells the user to retry)."""
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return True
            self._queues[key] = deque([job])
        self._pool.submit(self._drain, key)
        return True

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return
                job = queue[0]
            try:
                job()
            except Exception:  # jobs handle their own errors; this only guards the pool
                log.exception("slack job for %s failed", key)
            with self._lock:
                queue.popleft()
                self._pending -= 1

    @property
    def pending(self) -> int:
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending or self._queues:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class _TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener executor, counting listeners still running (for ``wait_idle``)."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="slack-listener")
        self._count = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._cond:
            self._count += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _f: Future[Any]) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)


# ----------------------------------------------------------------------------------------------
# Channel modes chosen from Slack (kept in the store, so every instance sees them)
# ----------------------------------------------------------------------------------------------
class ChannelModes:
    """A channel's mode: config's ``channel_modes`` pins it (only an admin may override a pinned
    channel from Slack), else what was chosen with ``/clinassist mode``, else the default."""

    def __init__(self, settings: Settings, store: Any) -> None:
        self.settings = settings
        self.store = store
        legacy = settings.data_dir / "slack" / "channel_modes.json"
        if legacy.is_file():  # modes chosen before they moved into the store
            try:
                raw = json.loads(legacy.read_text(encoding="utf-8"))
                for channel, mode in raw.items():
                    if mode in ("clinician", "patient") and self._stored(channel) is None:
                        self._write(channel, mode, by="", admin=False)
            except (OSError, ValueError, AttributeError):
                log.warning("ignoring unreadable %s", legacy)

    def _stored(self, channel: str) -> dict[str, Any] | None:
        value = read_front_setting(self.store, f"slack:mode:{channel}")
        return value if isinstance(value, dict) and value.get("mode") in MODES else None

    def _write(self, channel: str, mode: Mode | None, *, by: str, admin: bool) -> None:
        value = None if mode is None else {"mode": mode, "by": by, "admin": admin}
        write_front_setting(self.store, f"slack:mode:{channel}", value)

    def pinned(self, channel: str) -> Mode | None:
        return self.settings.slack.channel_modes.get(channel)

    def overridden(self, channel: str) -> bool:
        """Is a pinned channel in another mode because an admin said so?"""
        stored = self._stored(channel)
        return bool(self.pinned(channel) and stored and stored.get("admin"))

    def get(self, channel: str) -> Mode:
        stored = self._stored(channel)
        pinned = self.pinned(channel)
        if pinned:
            return stored["mode"] if stored and stored.get("admin") else pinned
        return stored["mode"] if stored else self.settings.slack.default_mode

    def set(self, channel: str, mode: Mode, *, by: str = "", admin: bool = False) -> None:
        if self.pinned(channel) == mode:
            self._write(channel, None, by=by, admin=admin)  # back to the configured mode
        else:
            self._write(channel, mode, by=by, admin=admin)


# ----------------------------------------------------------------------------------------------
# The front end
# ----------------------------------------------------------------------------------------------
@dataclass
class _Job:
    team: str
    channel: str
    thread_ts: str
    user: str
    text: str
    mode: Mode
    files: list[dict[str, Any]] = field(default_factory=list)
    assistant_thread: bool = False
    ts: str = ""  # the message's own ts: its place in the thread
    event_key: str = ""  # its claim in the store's event ledger

    @property
    def case_id(self) -> str:
        return case_key(self.team, self.channel, self.thread_ts)


class SlackFrontEnd:
    """The Bolt app plus what it needs: the Web API client, dedup, the case queue."""

    def __init__(
        self,
        assistant: Any,
        settings: Settings | None = None,
        *,
        client: WebClient | None = None,
        token: str | None = None,
        signing_secret: str | None = None,
        socket_mode: bool = False,
        process_before_response: bool = False,
        workers: int = DEFAULT_WORKERS,
        working_after_s: float = DEFAULT_WORKING_AFTER_S,
        max_pending: int = DEFAULT_MAX_PENDING,
        token_verification: bool = True,
    ) -> None:
        self.assistant = assistant
        self.settings: Settings = settings or assistant.settings
        if client is None:
            if not token:
                raise ConfigError(
                    "SLACK_BOT_TOKEN is not set: export the bot token (xoxb-…) and try again"
                )
            client = WebClient(token=token, base_url=self.settings.slack.api_url or DEFAULT_API_URL)
        self.client = client
        if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
            client.retry_handlers.append(
                RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
            )
        self.token = token or client.token or ""
        self.working_after_s = working_after_s
        self.modes = ChannelModes(self.settings, assistant.store)
        cfg = self.settings.slack
        self.ledger = SlackLedger(assistant.store, ttl_s=cfg.dedupe_ttl_s, lease_s=cfg.lease_s)
        self._known: set[str] = set()  # cases accepted by this process (the store lags behind)
        self._known_lock = threading.Lock()
        self.queue = CaseQueue(workers, max_pending)
        self._listeners = _TrackingExecutor(max_workers=max(4, workers * 2))
        self._file_hosts = tuple(cfg.file_hosts)
        self._http = http_client()
        self.app = App(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=not socket_mode,
            token_verification_enabled=token_verification,
            process_before_response=process_before_response,
            listener_executor=self._listeners,
            logger=logging.getLogger("assistant.slack.app.bolt"),
        )
        self._register()

    # -- wiring ------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.middleware(self._note_thread)
        app.event("app_mention")(self._on_mention)
        panel = BoltAssistant()
        panel.thread_started(self._on_assistant_thread_started)
        panel.user_message(self._on_assistant_message)
        app.assistant(panel)
        app.event("message")(self._on_message)
        app.command("/clinassist")(self._on_command)
        app.error(self._on_error)

    def _note_thread(self, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        """Before the ack: a mention or DM makes its thread a case at once, so a reply sent
        right after it is not mistaken for chatter in a thread the bot is not part of (the
        listeners run after the ack, in parallel)."""
        event = body.get("event") if body.get("type") == "event_callback" else None
        if isinstance(event, dict) and (
            event.get("type") == "app_mention" or event.get("channel_type") == "im"
        ):
            team, channel = _team_of(body, event), str(event.get("channel") or "")
            thread_ts = str(event.get("thread_ts") or event.get("ts") or "")
            if not self.refusal(team, channel, str(event.get("user") or "")):
                with contextlib.suppress(ValueError):
                    key = case_key(team, channel, thread_ts)
                    with self._known_lock:
                        self._known.add(key)
        return next()

    # -- listeners (fast: check, de-duplicate, enqueue) ------------------------------------
    def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        self._accept(body, event, context, started=True)

    def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        if event.get("subtype") not in MESSAGE_SUBTYPES or event.get("bot_id"):
            return
        if event.get("channel_type") == "im":
            self._accept(body, event, context, started=True)
        elif event.get("thread_ts"):
            self._accept(body, event, context, started=False)

    def _on_assistant_message(
        self, body: dict[str, Any], event: dict[str, Any], context: Any
    ) -> None:
        self._accept(body, event, context, started=True, assistant_thread=True)

    def _on_assistant_thread_started(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        thread = event.get("assistant_thread", {})
        channel, ts = thread.get("channel_id"), thread.get("thread_ts")
        team = _team_of(body, event)
        user = thread.get("user_id") or ""
        if not channel or not ts:
            return
        key = f"started:{team}:{channel}:{ts}"
        if not self.ledger.claim(key, thread=f"{team}:{channel}:{ts}", seq=str(ts)):
            return
        try:
            self._greet(team, channel, str(ts), user)
        finally:
            self.ledger.finish(key)

    def _greet(self, team: str, channel: str, ts: str, user: str) -> None:
        refusal = self.refusal(team, channel, user)
        try:
            if refusal:
                self.client.chat_postMessage(channel=channel, thread_ts=ts, text=refusal)
                return
            mode = self.modes.get(channel)
            self.client.chat_postMessage(
                channel=channel, thread_ts=ts, text=messages.GREETING[mode]
            )
            self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=ts, prompts=TXT_ASSISTANT_PROMPTS
            )
        except (SlackApiError, OSError) as exc:
            log.warning("assistant thread greeting failed: %s", _api_error(exc))

    def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error(
            "slack listener error (%s) for %s",
            type(error).__name__,
            body.get("type"),
            exc_info=error,
        )

    def _accept(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        context: Any,
        *,
        started: bool,
        assistant_thread: bool = False,
    ) -> None:
        team = _team_of(body, event)
        channel = event.get("channel") or ""
        ts = event.get("ts") or ""
        user = event.get("user") or ""
        thread_ts = event.get("thread_ts") or ts
        try:
            key = case_key(team, channel, thread_ts)
        except ValueError:
            log.warning("slack: event without usable team/channel/ts ignored")
            return
        if not started and not self._is_case(key):
            return  # a thread the bot is not part of
        event_key = f"msg:{team}:{channel}:{ts}"
        if not self.ledger.claim(event_key, thread=key, seq=ts):
            # a retry, the same message as app_mention and as message, or another instance's
            log.info(
                "slack: message %s already taken; delivery %s ignored", ts, body.get("event_id")
            )
            return
        refusal = self.refusal(team, channel, user)
        if refusal:
            self._refuse(channel, thread_ts, user, refusal, dm=event.get("channel_type") == "im")
            self.ledger.finish(event_key)
            return
        bot_user = getattr(context, "bot_user_id", None) if context is not None else None
        job = _Job(
            team=team,
            channel=channel,
            thread_ts=thread_ts,
            user=user,
            text=clean_incoming(event.get("text") or "", bot_user),
            mode=self.modes.get(channel),
            files=[f for f in event.get("files") or [] if isinstance(f, dict)],
            assistant_thread=assistant_thread,
            ts=ts,
            event_key=event_key,
        )
        with self._known_lock:
            self._known.add(key)
        if not self.queue.submit(key, lambda: self._run(job)):
            self.ledger.release(event_key)  # not answered: a retry may take it
            self._refuse(channel, thread_ts, user, TXT_BUSY, dm=event.get("channel_type") == "im")

    def _is_case(self, key: str) -> bool:
        with self._known_lock:
            if key in self._known:
                return True
        # another instance may have taken the thread's first message and not stored it yet
        return bool(self.assistant.store.exists(key)) or self.ledger.knows_thread(key)

    # -- authorization -----------------------------------------------------------------
    def refusal(self, team: str, channel: str, user: str) -> str | None:
        """Why this user may not use the bot here, or None when allowed (empty list = any)."""
        cfg = self.settings.slack
        if cfg.allowed_teams and team not in cfg.allowed_teams:
            return TXT_NOT_ALLOWED_TEAM.format(team=team)
        dm_ok = channel.startswith("D") and DM_WILDCARD in cfg.allowed_channels
        if cfg.allowed_channels and channel not in cfg.allowed_channels and not dm_ok:
            return TXT_NOT_ALLOWED_CHANNEL
        if cfg.allowed_users and user not in cfg.allowed_users:
            return TXT_NOT_ALLOWED_USER
        return None

    def _refuse(self, channel: str, thread_ts: str, user: str, text: str, *, dm: bool) -> None:
        try:
            if dm or not user:
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
            else:
                self.client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, text=text
                )
        except (SlackApiError, OSError) as exc:
            log.warning("slack: could not deliver a refusal: %s", _api_error(exc))

    # -- one turn (worker thread) --------------------------------------------------------
    def _run(self, job: _Job) -> None:
        try:
            if job.event_key:
                self.ledger.wait_turn(job.case_id, job.ts, job.event_key)
            self._turn(job)
        finally:
            if job.event_key:
                try:
                    self.ledger.finish(job.event_key)
                except Exception:
                    log.exception("slack: could not mark %s answered", job.event_key)

    def _preview(self, job: _Job) -> Callable[[str], tuple[str, list[dict[str, Any]]]]:
        """How a streamed answer looks while it is written: escaped text, the emergency banner
        on top when the message has red flags (as in the final answer), a "still writing" note."""
        banner = bool(safety.red_flags(job.text))

        def render(text: str) -> tuple[str, list[dict[str, Any]]]:
            body = escape_mrkdwn(text)
            blocks: list[dict[str, Any]] = []
            if banner:
                blocks.append(
                    {
                        "type": "header",
                        "text": {"type": "plain_text", "text": TXT_EMERGENCY_HEADER, "emoji": True},
                    }
                )
            blocks += [_section(body[:MAX_SECTION_CHARS]), _context([TXT_STREAMING])]
            return body[:MAX_FALLBACK_CHARS], blocks

        return render

    def _turn(self, job: _Job) -> None:
        shown = Shown()

        def show_working() -> None:
            with shown.lock:
                if shown.finished or shown.ts:
                    return
                try:
                    resp = self.client.chat_postMessage(
                        channel=job.channel, thread_ts=job.thread_ts, text=TXT_WORKING
                    )
                    shown.ts = str(resp["ts"])
                except (SlackApiError, OSError) as exc:
                    log.warning("slack: working message failed: %s", _api_error(exc))

        timer: threading.Timer | None = None
        if not (job.assistant_thread and self._set_status(job, TXT_STATUS)):
            timer = threading.Timer(self.working_after_s, show_working)
            timer.daemon = True
            timer.start()
        stream = (
            StreamedReply(
                self.client,
                channel=job.channel,
                thread_ts=job.thread_ts,
                shown=shown,
                interval_s=self.settings.slack.stream_interval_s,
                render=self._preview(job),
            )
            # patient-facing answers are shown only once every output check has run on them
            if self.settings.slack.stream and job.mode != "patient"
            else None
        )
        notes: list[str] = []
        outgoing: list[dict[str, Any]]
        heatmaps: list[tuple[Path, str]] = []
        try:
            attachments = self._download(job, notes)
            if not job.text and not attachments:
                outgoing = [{"text": "\n".join(notes) or TXT_NO_INPUT, "blocks": []}]
                turn = None
            else:
                turn = self.assistant.respond(
                    job.case_id,
                    job.text,
                    attachments,
                    mode=job.mode,
                    actor=f"slack:{job.team}:{job.user}",
                    on_token=stream.add if stream is not None else None,
                )
                heatmaps = self._heatmaps(turn)
                outgoing = render_messages(turn, heatmap_uploaded=bool(heatmaps))
                if notes:
                    outgoing[0]["blocks"].insert(0, _context(notes[:MAX_CITATIONS]))
                    outgoing[0]["text"] = ("\n".join(notes) + "\n\n" + outgoing[0]["text"])[
                        :MAX_FALLBACK_CHARS
                    ]
        except UserError as exc:
            turn = None
            outgoing = [{"text": "\n".join([*notes, exc.message]), "blocks": []}]
        except Exception:
            log.exception("slack: turn failed in case %s", job.case_id)
            turn = None
            outgoing = [{"text": TXT_FAILED, "blocks": []}]
        finally:
            if timer is not None:
                timer.cancel()
            if stream is not None:
                stream.stop()
            with shown.lock:
                shown.finished = True
        self._post(job, outgoing, shown.ts)
        if turn is not None:
            for path, title in heatmaps:
                self._upload(job, path, title)

    def _download(self, job: _Job, notes: list[str]) -> list[Attachment]:
        out: list[Attachment] = []
        limit = min(self.settings.slack.max_file_bytes, self.settings.limits.max_attachment_bytes)
        for i, info in enumerate(job.files):
            name = str(info.get("name") or info.get("title") or "file")
            if i >= self.settings.limits.max_attachments_per_turn:
                notes.append(
                    TXT_FILE_SKIPPED.format(
                        name=escape_mrkdwn(name), reason="too many files in one message"
                    )
                )
                continue
            try:
                out.append(
                    download_file(
                        info,
                        token=self.token,
                        max_bytes=limit,
                        extra_hosts=self._file_hosts,
                        http=self._http,
                    )
                )
            except FileRejected as exc:
                notes.append(
                    TXT_FILE_SKIPPED.format(
                        name=escape_mrkdwn(name), reason=escape_mrkdwn(exc.message)
                    )
                )
        return out

    def _heatmaps(self, turn: Turn) -> list[tuple[Path, str]]:
        found = []
        for call in turn.tools:
            if call.name != "classify_image" or not call.ok or not call.result:
                continue
            raw = call.result.get("heatmap")
            if not raw:
                continue
            path = Path(str(raw))
            try:
                ok = path.is_file() and path.stat().st_size <= self.settings.slack.max_file_bytes
                ok = ok and path.open("rb").read(8) == b"\x89PNG\r\n\x1a\n"
            except OSError:
                ok = False
            if ok:
                found.append(
                    (path, TXT_HEATMAP_TITLE.format(label=call.result.get("label") or "image"))
                )
        return found

    def _post(self, job: _Job, outgoing: list[dict[str, Any]], placeholder_ts: str | None) -> None:
        try:
            for i, msg in enumerate(outgoing):
                blocks = msg["blocks"] or None
                if i == 0 and placeholder_ts:
                    self.client.chat_update(
                        channel=job.channel,
                        ts=placeholder_ts,
                        text=msg["text"],
                        blocks=blocks or [],
                    )
                else:
                    self.client.chat_postMessage(
                        channel=job.channel,
                        thread_ts=job.thread_ts,
                        text=msg["text"],
                        blocks=blocks,
                        unfurl_links=False,
                    )
        except (SlackApiError, OSError) as exc:
            log.error("slack: could not post the answer in %s: %s", job.case_id, _api_error(exc))
        if job.assistant_thread:
            self._set_status(job, "")

    def _upload(self, job: _Job, path: Path, title: str) -> None:
        try:
            self.client.files_upload_v2(
                channel=job.channel,
                thread_ts=job.thread_ts,
                file=path.read_bytes(),
                filename=path.name if path.suffix.lower() == ".png" else f"{path.stem}.png",
                title=title,
                alt_txt="Grad-CAM heatmap: the regions that most influenced the image model",
            )
        except (SlackApiError, OSError) as exc:
            log.error("slack: heatmap upload failed in %s: %s", job.case_id, exc)

    def _set_status(self, job: _Job, status: str) -> bool:
        """The side panel's "is thinking…" line (False outside Assistant threads)."""
        try:
            self.client.assistant_threads_setStatus(
                channel_id=job.channel, thread_ts=job.thread_ts, status=status
            )
            return True
        except (SlackApiError, OSError) as exc:
            log.debug("slack: setStatus failed: %s", _api_error(exc))
            return False

    # -- slash command ------------------------------------------------------------------
    def _on_command(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        ack(response_type="ephemeral", text=self.command_reply(command))

    def command_reply(self, command: dict[str, Any]) -> str:
        """The ephemeral answer to ``/clinassist case|mode|help`` (fast: no model runs)."""
        team = command.get("team_id") or ""
        channel = command.get("channel_id") or ""
        user = command.get("user_id") or ""
        refusal = self.refusal(team, channel, user)
        if refusal:
            return refusal
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        if sub == "help":
            return TXT_HELP
        if sub == "mode":
            return self._cmd_mode(channel, user, args)
        if sub == "case":
            return self._cmd_case(team, channel, args)
        return TXT_UNKNOWN_SUBCOMMAND.format(sub=escape_mrkdwn(sub[:40])) + TXT_HELP

    def _cmd_mode(self, channel: str, user: str, args: list[str]) -> str:
        pinned = self.modes.pinned(channel)
        current = self.modes.get(channel)
        if not args:
            note = ""
            if pinned:
                note = TXT_MODE_OVERRIDDEN if self.modes.overridden(channel) else TXT_MODE_PINNED
            return TXT_MODE_SHOW.format(mode=current, pinned=note)
        wanted = args[0].lower()
        if wanted not in MODES:
            return messages.ERR_MODE.format(mode=escape_mrkdwn(wanted[:40]))
        admin = user in self.settings.slack.admins
        if pinned and not admin:
            return TXT_MODE_LOCKED.format(mode=current)
        if current == "patient" and wanted == "clinician" and not admin:
            return TXT_MODE_ADMIN_ONLY
        self.modes.set(channel, wanted, by=user, admin=admin)
        log.info(
            "slack: user %s set channel %s to %s mode (admin: %s)", user, channel, wanted, admin
        )
        return TXT_MODE_SET.format(mode=wanted)

    def _cmd_case(self, team: str, channel: str, args: list[str]) -> str:
        prefix = f"{CASE_PREFIX}:{team}:{channel}:"
        if not args:
            mine = [c for c in self.assistant.cases() if c.id.startswith(prefix)]
            if not mine:
                return TXT_NO_CASES
            lines = [f"*Cases in this channel* ({len(mine)}):"]
            for c in mine[:10]:
                when = c.updated_at.strftime("%Y-%m-%d %H:%M UTC")
                lines.append(
                    f"• thread `{c.id[len(prefix) :]}`: {c.turns} turn(s), {c.mode} mode, last {when}"
                )
            return "\n".join(lines)
        ref = args[0].strip("<>")
        ts = _thread_ts_from(ref)
        parsed = parse_case_key(ref)
        if parsed is not None and (parsed[0], parsed[1]) != (team, channel):
            return TXT_OTHER_CHANNEL
        if ts is None:
            return TXT_NO_CASE.format(ts=escape_mrkdwn(ref[:60]))
        link_channel = _channel_from_link(ref)
        if link_channel is not None and link_channel != channel:
            return TXT_OTHER_CHANNEL
        key = prefix + ts
        if not self.assistant.store.exists(key):
            return TXT_NO_CASE.format(ts=ts)
        turns = self.assistant.history(key, last=1)
        last = turns[-1].reply[:300] if turns else ""
        count = next((c.turns for c in self.assistant.cases() if c.id == key), len(turns))
        return (
            f"*Case* thread `{ts}` ({self.assistant.case_mode(key)} mode, {count} turn(s)). "
            f"Last answer:\n>{escape_mrkdwn(last).replace(chr(10), chr(10) + '>')}"
        )

    # -- lifecycle ------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every accepted event has been answered (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._listeners.wait_idle(max(deadline - time.monotonic(), 0)):
                return False
            if not self.queue.wait_idle(max(deadline - time.monotonic(), 0)):
                return False
            if self.queue.pending == 0 and self._listeners._count == 0:
                return True

    def close(self) -> None:
        self._listeners.shutdown(wait=True)
        self.queue.close()
        self._http.close()
        self.ledger.close()


def _api_error(exc: Exception) -> str:
    """What went wrong with a Web API call: Slack's error code, or the network error."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return f"{type(exc).__name__}: {exc}"


def _team_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or (body.get("team") or {}).get("id") or "")


_TS = re.compile(r"^\d{6,12}\.\d{1,8}$")
_LINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})")


def _thread_ts_from(ref: str) -> str | None:
    """A thread ts from a ts, a case key or a Slack message link."""
    parsed = parse_case_key(ref)
    if parsed is not None:
        return parsed[2]
    if _TS.match(ref):
        return ref
    link = _LINK.search(ref)
    if link:
        query = urlparse(ref).query
        m = re.search(r"thread_ts=(\d+\.\d+)", query)
        return m.group(1) if m else f"{link.group(2)}.{link.group(3)}"
    return None


def _channel_from_link(ref: str) -> str | None:
    link = _LINK.search(ref)
    return link.group(1) if link else None


def build_app(
    assistant: Any,
    settings: Settings | None = None,
    *,
    client: WebClient | None = None,
    **options: Any,
) -> App:
    """The Bolt ``App`` (see :class:`SlackFrontEnd` for the options)."""
    return SlackFrontEnd(assistant, settings, client=client, **options).app


# ----------------------------------------------------------------------------------------------
# serve(): Socket Mode, or HTTP through assistant.slack.http (uvicorn + Bolt's ASGI adapter)
# ----------------------------------------------------------------------------------------------
def transport(settings: Settings) -> str:
    """ "socket" when SLACK_APP_TOKEN is set, else "http"."""
    return "socket" if settings.secret("slack_app_token") else "http"


def serve(assistant: Any, *, port: int, host: str = "127.0.0.1") -> None:
    """Run the app until interrupted. Tokens come only from the environment."""
    settings: Settings = assistant.settings
    bot = settings.secret("slack_bot_token")
    if bot is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: export the bot token (xoxb-…) from the app's OAuth page"
        )
    mode = transport(settings)
    signing = settings.secret("slack_signing_secret")
    if mode == "http" and signing is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: export it (Basic Information > App Credentials), "
            "or set SLACK_APP_TOKEN to use Socket Mode"
        )
    api_url = settings.slack.api_url or DEFAULT_API_URL
    server: SlackHTTPServer | None = None
    if mode == "http":
        assert signing is not None
        cfg = settings.slack
        try:  # bind first: a taken port is reported before anything else starts
            server = SlackHTTPServer(
                None,
                signing_secret=signing.get_secret_value(),
                host=host,
                port=port,
                header_timeout_s=cfg.http_header_timeout_s,
                body_timeout_s=cfg.http_body_timeout_s,
                max_body_bytes=cfg.http_max_body_bytes,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another --port "
                "or --host"
            ) from exc
    try:
        front = SlackFrontEnd(
            assistant,
            settings,
            token=bot.get_secret_value(),
            signing_secret=signing.get_secret_value() if signing else None,
            socket_mode=mode == "socket",
        )
    except (BoltError, SlackApiError, OSError) as exc:  # auth.test at start-up
        if server is not None:
            server.close()
        raise ConfigError(
            f"could not check SLACK_BOT_TOKEN with Slack at {api_url} ({type(exc).__name__}): "
            "verify the token, slack.api_url, and that this machine can reach that host"
        ) from exc
    threading.Thread(target=assistant.warm, name="warm", daemon=True).start()
    try:
        if server is None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            app_token = settings.secret("slack_app_token")
            assert app_token is not None
            log.info("slack: Socket Mode")
            SocketModeHandler(front.app, app_token.get_secret_value()).start()
        else:
            server.attach(front.app)
            log.info("slack: listening on http://%s:%d%s", host, server.port, EVENTS_PATH)
            print(f"slack: listening on http://{host}:{server.port}{EVENTS_PATH}", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
    finally:
        if server is not None:
            server.close()
        front.close()
