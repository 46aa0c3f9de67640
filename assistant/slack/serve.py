"""``clinassist slack``: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

HTTP is served at ``POST /slack/events`` on ``host:port`` through assistant.slack.http
(uvicorn + Bolt's ASGI adapter, request limits and the signature check before Bolt). The port
is bound first, so a taken port is reported before anything else starts; the bot token is
checked with Slack (``auth.test``) before the app listens. Tokens come only from the
environment.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from assistant.core.config import Settings
from assistant.core.errors import ConfigError
from assistant.core.slack_hosts import DEFAULT_API_URL
from assistant.slack.app import SlackFrontEnd
from assistant.slack.http import EVENTS_PATH, SlackHTTPServer

log = logging.getLogger(__name__)


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
