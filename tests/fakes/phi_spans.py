"""Whether a detector covers every letter and digit of a secret (a partly redacted name leaks)."""

from __future__ import annotations

from assistant.policy import phi


def covered(text: str, secret: str, *, library: bool = True) -> bool:
    start = text.index(secret)
    spans = phi.detect(text, library=library)
    return all(
        any(s.start <= i < s.end for s in spans)
        for i in range(start, start + len(secret))
        if text[i].isalnum()
    )
