"""The Slack front end (slack-bolt): one thread per case, a thin layer over ``Assistant.respond``.

How a Slack message becomes a turn:

* An ``app_mention`` (in a channel) or a direct message starts a case keyed
  ``slack:<team>:<channel>:<thread_ts>`` (assistant.slack.keys); a reply in that thread
  (mention or not) continues it. Who may use the bot where, and each channel's mode:
  assistant.slack.access.
* The listener only checks, de-duplicates and enqueues, so the HTTP acknowledgement goes back
  at once (well inside Slack's 3 s). Turns run on a small worker pool, serially per case and in
  parallel across cases (assistant.slack.queue); one turn: assistant.slack.turn (files,
  ``Assistant.respond``, Block Kit from assistant.slack.render, the streamed preview).
* Each message is claimed once in the case store before it is answered
  (assistant.slack.dedupe): Slack's retries (``X-Slack-Retry-Num``), the app_mention/message
  pair for one message, and retries reaching another instance or a restarted one give one
  turn; a thread's messages are answered in order across instances. Web API rate limits
  (429 + Retry-After) are retried by slack_sdk's RateLimitErrorRetryHandler.
* ``/clinassist case|mode|help``: assistant.slack.commands. Running it (Socket Mode or HTTP):
  assistant.slack.serve.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt import Assistant as BoltAssistant
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from assistant.core.config import Settings
from assistant.core.errors import ConfigError
from assistant.core.slack_hosts import DEFAULT_API_URL
from assistant.policy import messages
from assistant.slack.access import ChannelModes, refusal
from assistant.slack.commands import SlashCommands
from assistant.slack.dedupe import SlackLedger
from assistant.slack.files import RATE_LIMIT_RETRIES, http_client
from assistant.slack.keys import case_key, team_of
from assistant.slack.queue import CaseQueue, TrackingExecutor
from assistant.slack.render import clean_incoming
from assistant.slack.turn import Job, TurnRunner, api_error

log = logging.getLogger(__name__)

__all__ = ["SlackFrontEnd", "build_app"]

DEFAULT_WORKERS = 4
DEFAULT_WORKING_AFTER_S = 1.5
DEFAULT_MAX_PENDING = 1000
MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")


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
        self.modes = ChannelModes(self.settings, assistant.store)
        self.commands = SlashCommands(assistant, self.settings, self.modes)
        cfg = self.settings.slack
        self.ledger = SlackLedger(assistant.store, ttl_s=cfg.dedupe_ttl_s, lease_s=cfg.lease_s)
        self._known: set[str] = set()  # cases accepted by this process (the store lags behind)
        self._known_lock = threading.Lock()
        self.queue = CaseQueue(workers, max_pending)
        self._listeners = TrackingExecutor(max_workers=max(4, workers * 2))
        self._http = http_client()
        self.turns = TurnRunner(
            assistant,
            self.settings,
            client,
            token=self.token,
            http=self._http,
            working_after_s=working_after_s,
        )
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
            team, channel = team_of(body, event), str(event.get("channel") or "")
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
        team = team_of(body, event)
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
        refused = self.refusal(team, channel, user)
        try:
            if refused:
                self.client.chat_postMessage(channel=channel, thread_ts=ts, text=refused)
                return
            mode = self.modes.get(channel)
            self.client.chat_postMessage(
                channel=channel, thread_ts=ts, text=messages.GREETING[mode]
            )
            self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=ts, prompts=messages.SLACK_ASSISTANT_PROMPTS
            )
        except (SlackApiError, OSError) as exc:
            log.warning("assistant thread greeting failed: %s", api_error(exc))

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
        team = team_of(body, event)
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
        dm = event.get("channel_type") == "im"
        refused = self.refusal(team, channel, user)
        if refused:
            self._refuse(channel, thread_ts, user, refused, dm=dm)
            self.ledger.finish(event_key)
            return
        bot_user = getattr(context, "bot_user_id", None) if context is not None else None
        job = Job(
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
            self._refuse(channel, thread_ts, user, messages.SLACK_BUSY, dm=dm)

    def _is_case(self, key: str) -> bool:
        with self._known_lock:
            if key in self._known:
                return True
        # another instance may have taken the thread's first message and not stored it yet
        return bool(self.assistant.store.exists(key)) or self.ledger.knows_thread(key)

    # -- authorization -----------------------------------------------------------------
    def refusal(self, team: str, channel: str, user: str) -> str | None:
        """Why this user may not use the bot here, or None when allowed (empty list = any)."""
        return refusal(self.settings, team, channel, user)

    def _refuse(self, channel: str, thread_ts: str, user: str, text: str, *, dm: bool) -> None:
        try:
            if dm or not user:
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
            else:
                self.client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, text=text
                )
        except (SlackApiError, OSError) as exc:
            log.warning("slack: could not deliver a refusal: %s", api_error(exc))

    # -- one turn (worker thread) --------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            if job.event_key:
                self.ledger.wait_turn(job.case_id, job.ts, job.event_key)
            self.turns.run(job)
        finally:
            if job.event_key:
                try:
                    self.ledger.finish(job.event_key)
                except Exception:
                    log.exception("slack: could not mark %s answered", job.event_key)

    # -- slash command ------------------------------------------------------------------
    def _on_command(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        ack(response_type="ephemeral", text=self.command_reply(command))

    def command_reply(self, command: dict[str, Any]) -> str:
        """The ephemeral answer to ``/clinassist case|mode|help`` (fast: no model runs)."""
        return self.commands.reply(command)

    # -- lifecycle ------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every accepted event has been answered (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._listeners.wait_idle(max(deadline - time.monotonic(), 0)):
                return False
            if not self.queue.wait_idle(max(deadline - time.monotonic(), 0)):
                return False
            if self.queue.pending == 0 and self._listeners.running == 0:
                return True

    def close(self) -> None:
        self._listeners.shutdown(wait=True)
        self.queue.close()
        self._http.close()
        self.ledger.close()


def build_app(
    assistant: Any,
    settings: Settings | None = None,
    *,
    client: WebClient | None = None,
    **options: Any,
) -> App:
    """The Bolt ``App`` (see :class:`SlackFrontEnd` for the options)."""
    return SlackFrontEnd(assistant, settings, client=client, **options).app
