"""``/clinassist case|mode|help``: the ephemeral answers (fast: no model runs).

``case`` lists this channel's cases or shows one (by thread ts, case key or message link; a case
of another channel is never shown); ``mode`` shows or changes the channel's mode under the
rules of :class:`assistant.slack.access.ChannelModes`.
"""

from __future__ import annotations

import logging
from typing import Any

from assistant.core.config import Settings
from assistant.core.schema import MODES
from assistant.policy import messages
from assistant.slack.access import ChannelModes, refusal
from assistant.slack.keys import CASE_PREFIX, channel_from_link, parse_case_key, thread_ts_from
from assistant.slack.render import escape_mrkdwn

log = logging.getLogger(__name__)


class SlashCommands:
    """The answers to ``/clinassist``, over the assistant's case store and the channel modes."""

    def __init__(self, assistant: Any, settings: Settings, modes: ChannelModes) -> None:
        self.assistant = assistant
        self.settings = settings
        self.modes = modes

    def reply(self, command: dict[str, Any]) -> str:
        """The ephemeral answer to one ``/clinassist`` command."""
        team = command.get("team_id") or ""
        channel = command.get("channel_id") or ""
        user = command.get("user_id") or ""
        refused = refusal(self.settings, team, channel, user)
        if refused:
            return refused
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        if sub == "help":
            return messages.SLACK_HELP
        if sub == "mode":
            return self._mode(channel, user, args)
        if sub == "case":
            return self._case(team, channel, args)
        return (
            messages.SLACK_UNKNOWN_SUBCOMMAND.format(sub=escape_mrkdwn(sub[:40]))
            + messages.SLACK_HELP
        )

    def _mode(self, channel: str, user: str, args: list[str]) -> str:
        pinned = self.modes.pinned(channel)
        current = self.modes.get(channel)
        if not args:
            note = ""
            if pinned:
                note = (
                    messages.SLACK_MODE_OVERRIDDEN
                    if self.modes.overridden(channel)
                    else messages.SLACK_MODE_PINNED
                )
            return messages.SLACK_MODE_SHOW.format(mode=current, pinned=note)
        wanted = args[0].lower()
        if wanted not in MODES:
            return messages.ERR_MODE.format(mode=escape_mrkdwn(wanted[:40]))
        admin = user in self.settings.slack.admins
        if pinned and not admin:
            return messages.SLACK_MODE_LOCKED.format(mode=current)
        if current == "patient" and wanted == "clinician" and not admin:
            return messages.SLACK_MODE_ADMIN_ONLY
        self.modes.set(channel, wanted, by=user, admin=admin)
        log.info(
            "slack: user %s set channel %s to %s mode (admin: %s)", user, channel, wanted, admin
        )
        return messages.SLACK_MODE_SET.format(mode=wanted)

    def _case(self, team: str, channel: str, args: list[str]) -> str:
        prefix = f"{CASE_PREFIX}:{team}:{channel}:"
        if not args:
            mine = [c for c in self.assistant.cases() if c.id.startswith(prefix)]
            if not mine:
                return messages.SLACK_NO_CASES
            lines = [messages.SLACK_CASES_HEADER.format(count=len(mine))]
            for c in mine[:10]:
                lines.append(
                    messages.SLACK_CASES_LINE.format(
                        ts=c.id[len(prefix) :],
                        turns=c.turns,
                        mode=c.mode,
                        when=c.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                    )
                )
            return "\n".join(lines)
        ref = args[0].strip("<>")
        ts = thread_ts_from(ref)
        parsed = parse_case_key(ref)
        if parsed is not None and (parsed[0], parsed[1]) != (team, channel):
            return messages.SLACK_OTHER_CHANNEL
        if ts is None:
            return messages.SLACK_NO_CASE.format(ts=escape_mrkdwn(ref[:60]))
        link_channel = channel_from_link(ref)
        if link_channel is not None and link_channel != channel:
            return messages.SLACK_OTHER_CHANNEL
        key = prefix + ts
        if not self.assistant.store.exists(key):
            return messages.SLACK_NO_CASE.format(ts=ts)
        turns = self.assistant.history(key, last=1)
        last = turns[-1].reply[:300] if turns else ""
        count = next((c.turns for c in self.assistant.cases() if c.id == key), len(turns))
        return messages.SLACK_CASE_SHOW.format(
            ts=ts,
            mode=self.assistant.case_mode(key),
            count=count,
            last=escape_mrkdwn(last).replace("\n", "\n>"),
        )
