"""The Slack front end (slack-bolt): one thread per case."""

from __future__ import annotations

from typing import Any

from assistant.errors import ToolUnavailableError


def serve(assistant: Any, *, port: int) -> None:
    raise ToolUnavailableError("the Slack app is not part of this build yet (issue #8)")
