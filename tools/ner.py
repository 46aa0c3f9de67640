"""extract_entities: clinical named entities in a report, with ConText modifiers and sections."""

from __future__ import annotations

from typing import Any

from assistant.errors import ToolUnavailableError
from tools.base import ToolContext, tool


def report_text(text: str | None, attachment: str | None, ctx: ToolContext) -> str:
    """The report to read: inline text, or an attached file's text layer."""
    if text:
        return text
    if attachment:
        data = ctx.load_blob(attachment)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolUnavailableError(
                "reading this attachment's text is not supported yet (plain UTF-8 text only)"
            ) from exc
    return ""


@tool
def extract_entities(
    text: str | None = None, attachment: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Extract findings, anatomy, medications, procedures, devices and measurements from a
    radiology or clinical report, with negation, uncertainty, history and section."""
    report_text(text, attachment, ctx)
    raise ToolUnavailableError("the clinical NER pipeline is not installed in this build (issue #5)")
