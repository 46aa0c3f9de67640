"""One Slack message answered (on a worker thread): files in, ``Assistant.respond``, Block Kit out.

A "working…" message appears when a turn takes longer than ``working_after_s`` (in an
Assistant side-panel thread, the "is thinking…" status instead) and is then replaced by the
answer. A model-written answer is shown while it is generated (assistant.slack.stream), except
in patient mode, where an answer is shown only once every output check has run on it. A
Grad-CAM heatmap in a ``classify_image`` result is uploaded back into the thread. An exception
is answered in the thread and never reaches the other cases.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.core.config import Settings
from assistant.core.errors import UserError
from assistant.core.schema import Mode, Turn
from assistant.policy import messages, safety
from assistant.service import Attachment
from assistant.slack.files import FileRejected, download_file
from assistant.slack.keys import case_key
from assistant.slack.render import (
    Message,
    escape_mrkdwn,
    preview_renderer,
    render_messages,
    with_notes,
)
from assistant.slack.stream import Shown, StreamedReply

log = logging.getLogger(__name__)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Job:
    """One accepted message, waiting in its case's queue."""

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


def api_error(exc: Exception) -> str:
    """What went wrong with a Web API call: Slack's error code, or the network error."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return f"{type(exc).__name__}: {exc}"


class TurnRunner:
    """Answers one :class:`Job` in its thread (called serially per case by the case queue)."""

    def __init__(
        self,
        assistant: Any,
        settings: Settings,
        client: WebClient,
        *,
        token: str,
        http: httpx.Client,
        working_after_s: float,
    ) -> None:
        self.assistant = assistant
        self.settings = settings
        self.client = client
        self.token = token
        self.http = http
        self.working_after_s = working_after_s
        self.file_hosts = tuple(settings.slack.file_hosts)

    def run(self, job: Job) -> None:
        shown = Shown()

        def show_working() -> None:
            with shown.lock:
                if shown.finished or shown.ts:
                    return
                try:
                    resp = self.client.chat_postMessage(
                        channel=job.channel, thread_ts=job.thread_ts, text=messages.SLACK_WORKING
                    )
                    shown.ts = str(resp["ts"])
                except (SlackApiError, OSError) as exc:
                    log.warning("slack: working message failed: %s", api_error(exc))

        timer: threading.Timer | None = None
        if not (job.assistant_thread and self.set_status(job, messages.SLACK_STATUS)):
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
                render=preview_renderer(bool(safety.red_flags(job.text))),
            )
            # patient-facing answers are shown only once every output check has run on them
            if self.settings.slack.stream and job.mode != "patient"
            else None
        )
        notes: list[str] = []
        outgoing: list[Message]
        heatmaps: list[tuple[Path, str]] = []
        try:
            attachments = self.download(job, notes)
            if not job.text and not attachments:
                outgoing = [{"text": "\n".join(notes) or messages.SLACK_NO_INPUT, "blocks": []}]
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
                heatmaps = self.heatmaps(turn)
                outgoing = with_notes(render_messages(turn, heatmap_uploaded=bool(heatmaps)), notes)
        except UserError as exc:
            turn = None
            outgoing = [{"text": "\n".join([*notes, exc.message]), "blocks": []}]
        except Exception:
            log.exception("slack: turn failed in case %s", job.case_id)
            turn = None
            outgoing = [{"text": messages.SLACK_FAILED, "blocks": []}]
        finally:
            if timer is not None:
                timer.cancel()
            if stream is not None:
                stream.stop()
            with shown.lock:
                shown.finished = True
        self.post(job, outgoing, shown.ts)
        if turn is not None:
            for path, title in heatmaps:
                self.upload(job, path, title)

    def download(self, job: Job, notes: list[str]) -> list[Attachment]:
        """The message's files as attachments; a note for each file that cannot be used."""
        out: list[Attachment] = []
        limits = self.settings.limits
        limit = min(self.settings.slack.max_file_bytes, limits.max_attachment_bytes)
        for i, info in enumerate(job.files):
            name = escape_mrkdwn(str(info.get("name") or info.get("title") or "file"))
            if i >= limits.max_attachments_per_turn:
                notes.append(
                    messages.SLACK_FILE_SKIPPED.format(
                        name=name, reason=messages.SLACK_FILE_TOO_MANY
                    )
                )
                continue
            try:
                out.append(
                    download_file(
                        info,
                        token=self.token,
                        max_bytes=limit,
                        extra_hosts=self.file_hosts,
                        http=self.http,
                    )
                )
            except FileRejected as exc:
                notes.append(
                    messages.SLACK_FILE_SKIPPED.format(name=name, reason=escape_mrkdwn(exc.message))
                )
        return out

    def heatmaps(self, turn: Turn) -> list[tuple[Path, str]]:
        """The Grad-CAM PNGs of the turn's image results that may be uploaded, with titles."""
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
                ok = ok and path.open("rb").read(8) == PNG_MAGIC
            except OSError:
                ok = False
            if ok:
                label = call.result.get("label") or "image"
                found.append((path, messages.SLACK_HEATMAP_TITLE.format(label=label)))
        return found

    def post(self, job: Job, outgoing: list[Message], placeholder_ts: str | None) -> None:
        """The answer in the thread: the placeholder edited into the first message, if any."""
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
            log.error("slack: could not post the answer in %s: %s", job.case_id, api_error(exc))
        if job.assistant_thread:
            self.set_status(job, "")

    def upload(self, job: Job, path: Path, title: str) -> None:
        try:
            self.client.files_upload_v2(
                channel=job.channel,
                thread_ts=job.thread_ts,
                file=path.read_bytes(),
                filename=path.name if path.suffix.lower() == ".png" else f"{path.stem}.png",
                title=title,
                alt_txt=messages.SLACK_HEATMAP_ALT,
            )
        except (SlackApiError, OSError) as exc:
            log.error("slack: heatmap upload failed in %s: %s", job.case_id, exc)

    def set_status(self, job: Job, status: str) -> bool:
        """The side panel's "is thinking…" line (False outside Assistant threads)."""
        try:
            self.client.assistant_threads_setStatus(
                channel_id=job.channel, thread_ts=job.thread_ts, status=status
            )
            return True
        except (SlackApiError, OSError) as exc:
            log.debug("slack: setStatus failed: %s", api_error(exc))
            return False
