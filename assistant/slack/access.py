"""Who may use the bot where, and in which mode each channel runs.

``slack.allowed_teams``, ``slack.allowed_channels`` (``im`` allows every direct message) and
``slack.allowed_users`` are allow-lists (empty: anyone). A channel's mode is pinned by
``slack.channel_modes`` (only an admin listed in ``slack.admins`` may override a pinned channel
from Slack), else chosen with ``/clinassist mode`` (kept in the store, so every instance sees
it), else ``slack.default_mode``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from assistant.core.config import Settings
from assistant.core.schema import MODES, Mode
from assistant.policy import messages
from assistant.store import read_front_setting, write_front_setting

log = logging.getLogger(__name__)

DM_WILDCARD = "im"  # in slack.allowed_channels: allow every direct message


def refusal(settings: Settings, team: str, channel: str, user: str) -> str | None:
    """Why this user may not use the bot here, or None when allowed (empty list = any)."""
    cfg = settings.slack
    if cfg.allowed_teams and team not in cfg.allowed_teams:
        return messages.SLACK_NOT_ALLOWED_TEAM.format(team=team)
    dm_ok = channel.startswith("D") and DM_WILDCARD in cfg.allowed_channels
    if cfg.allowed_channels and channel not in cfg.allowed_channels and not dm_ok:
        return messages.SLACK_NOT_ALLOWED_CHANNEL
    if cfg.allowed_users and user not in cfg.allowed_users:
        return messages.SLACK_NOT_ALLOWED_USER
    return None


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
