"""Slack case keys and the references a user may type for a case (a ts, a key, a message link).

A case is keyed ``slack:<team>:<channel>:<thread_ts>``, built only from the event's own team
and channel, so a user in one channel can never reach a case from another channel.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

CASE_PREFIX = "slack"
_ID_PART = re.compile(r"^[A-Za-z0-9._@-]{1,60}$")
_TS = re.compile(r"^\d{6,12}\.\d{1,8}$")
_LINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})")


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


def team_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The workspace an event came from (envelope first, then the event, then the team object)."""
    return str(body.get("team_id") or event.get("team") or (body.get("team") or {}).get("id") or "")


def thread_ts_from(ref: str) -> str | None:
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


def channel_from_link(ref: str) -> str | None:
    """The channel of a Slack message link, or None when ``ref`` is not a link."""
    link = _LINK.search(ref)
    return link.group(1) if link else None
