"""Whether a detector covers every letter and digit of a secret (a partly redacted name leaks)."""

from __future__ import annotations

from assistant.policy import phi


def covered(
    text: str, secret: str, *, library: bool = True, kinds: tuple[str, ...] | None = None
) -> bool:
    """Every letter and digit of ``secret`` lies in a span (of one of ``kinds``, when given)."""
    start = text.index(secret)
    spans = [s for s in phi.detect(text, library=library) if kinds is None or s.kind in kinds]
    return all(
        any(s.start <= i < s.end for s in spans)
        for i in range(start, start + len(secret))
        if text[i].isalnum()
    )
