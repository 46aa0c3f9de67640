"""A turn as Slack messages: mrkdwn escaping, long-text splitting and Block Kit.

Order inside the first message: the emergency banner, the triage level (virtual doctor), the
reply (split into several messages when long); the last message ends with the findings table,
the citations and the review note. The texts themselves live in ``assistant.policy.messages``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from assistant.core.schema import Mode, Turn
from assistant.policy import messages

MAX_SECTION_CHARS = 2900  # Slack: section text <= 3000
MAX_MESSAGE_CHARS = 3800  # body characters per message before the answer is split
MAX_FALLBACK_CHARS = 3000  # the notification ``text`` of a message
MAX_TABLE_ROWS = 20
MAX_CITATIONS = 10  # a context block holds at most 10 elements

Message = dict[str, Any]  # {"text": fallback, "blocks": [...]}


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, so no reply can ping @channel or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(texts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def emergency_header() -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": messages.SLACK_EMERGENCY_HEADER, "emoji": True},
    }


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


def render_messages(turn: Turn, *, heatmap_uploaded: bool = False) -> list[Message]:
    """A turn as one or more Slack messages: ``[{"text": fallback, "blocks": [...]}, ...]``.

    Order inside the first message: emergency banner, reply; the last message ends with the
    findings table, the citations and the review note.
    """
    paragraphs = [p for p in turn.reply.split("\n\n") if p.strip()]
    banner: str | None = None
    if turn.safety.emergency:
        at = _emergency_paragraph(paragraphs, turn.mode)
        banner = paragraphs.pop(at) if at is not None else messages.SLACK_EMERGENCY_FALLBACK
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
                messages.SLACK_HEATMAP_ATTACHED if line.startswith("Grad-CAM heatmap: ") else line
                for line in p.split("\n")
            )
            for p in paragraphs
        ]
    body = escape_mrkdwn("\n\n".join(paragraphs))
    chunks = [c for c in split_text(body, MAX_MESSAGE_CHARS) if c.strip()] if body else []

    out: list[Message] = []
    for i, chunk in enumerate(chunks or [""]):
        blocks: list[dict[str, Any]] = []
        fallback = chunk
        if i == 0 and banner is not None:
            blocks.append(emergency_header())
            blocks.append(section(f"*{escape_mrkdwn(banner)}*"))
            fallback = f"{banner}\n\n{chunk}"
        if i == 0 and level_line is not None:
            blocks.append(section(f"*{escape_mrkdwn(level_line)}*"))
            fallback = f"{level_line}\n\n{chunk}"
        for piece in split_text(chunk, MAX_SECTION_CHARS) if chunk else []:
            if piece.strip():
                blocks.append(section(piece))
        out.append(
            {"text": fallback[:MAX_FALLBACK_CHARS] or messages.SLACK_EMPTY_REPLY, "blocks": blocks}
        )
    tail: list[dict[str, Any]] = []
    table = _findings_table(turn)
    if table:
        tail.append({"type": "divider"})
        tail.append(section(table[:MAX_SECTION_CHARS]))
    cites = _citation_texts(turn)
    if cites:
        tail.append(context(["*Sources*", *cites][:MAX_CITATIONS]))
    if review:
        tail.append(context([f":warning: {escape_mrkdwn(review)}"]))
    out[-1]["blocks"].extend(tail)
    if not out[-1]["blocks"]:
        out[-1]["blocks"].append(
            section(escape_mrkdwn(turn.reply or messages.SLACK_EMPTY_REPLY)[:MAX_SECTION_CHARS])
        )
    return out


def preview_renderer(banner: bool) -> Callable[[str], tuple[str, list[dict[str, Any]]]]:
    """How a streamed answer looks while it is written: escaped text, the emergency banner on
    top when the message has red flags (as in the final answer), a "still writing" note."""

    def render(text: str) -> tuple[str, list[dict[str, Any]]]:
        body = escape_mrkdwn(text)
        blocks: list[dict[str, Any]] = [emergency_header()] if banner else []
        blocks += [section(body[:MAX_SECTION_CHARS]), context([messages.SLACK_STREAMING])]
        return body[:MAX_FALLBACK_CHARS], blocks

    return render


def with_notes(outgoing: list[Message], notes: list[str]) -> list[Message]:
    """The first message headed by ``notes`` (files that could not be used), in place."""
    if notes:
        outgoing[0]["blocks"].insert(0, context(notes[:MAX_CITATIONS]))
        outgoing[0]["text"] = ("\n".join(notes) + "\n\n" + outgoing[0]["text"])[:MAX_FALLBACK_CHARS]
    return outgoing
