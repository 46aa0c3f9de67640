"""What counts as a part of the story that was not understood.

The semantic matcher reports each piece nothing matched whose nearest concept is nearer than the
"nothing wrong" background and a little below the threshold (``semantic.Near``). Such a piece
is kept as *unexplained* unless it is plainly explained another way:

- it denies something ("no blood", "doesn't hurt at all"): a denial adds nothing to explain;
- its nearest concept was recognised in the same message anyway (the piece elaborates it);
- its nearest concept can only ever lead to home care (no rule about it is above self-care,
  except rules that also need a risk factor, such as pregnancy, which is recognised on its own);
- its nearest concept is a catch-all ("feeling unwell", "pain") while the message names a
  specific complaint (the piece elaborates that complaint).

What is kept makes home care impossible for the episode, and a warning sign it came near is
asked about (``engine.near_signs``).
"""

from __future__ import annotations

import re
from typing import Any

from tools.triage.lexicon import RANK, Lexicon

_DENIAL = re.compile(
    r"\b(?:no|not|never|nothing|none|nor|without|doesn.?t|don.?t|didn.?t|isn.?t|aren.?t|wasn.?t"
    r"|hasn.?t|haven.?t|hadn.?t)\b"
)


def _above_self_care(cid: str, lex: Lexicon) -> bool:
    key = "above_self_care"
    if key not in lex.cache:
        lex.cache[key] = {
            c
            for r in lex.rules
            # a rule that needs a risk factor too ("itching in pregnancy") leads above home care
            # only when the risk is told, and a told risk is recognised on its own
            if RANK[r.level] > RANK["self_care"]
            and not any(lex.concepts[a].kind == "risk" for a in r.when.all)
            for c in (*r.when.all, *r.when.any)
        }
    found: set[str] = lex.cache[key]
    return cid in found


def keep_near(
    near: list[tuple[str, float, str]], mentions: dict[str, Any], lex: Lexicon
) -> list[tuple[str, float, str]]:
    """The near misses that stay unexplained (see the module's docstring)."""
    specific = any(
        c in lex.concepts and lex.concepts[c].kind == "complaint" and c not in lex.generic
        for c in mentions
    )
    out = []
    for concept, score, piece in near:
        if _DENIAL.search(piece) or concept in mentions or concept not in lex.concepts:
            continue
        if not _above_self_care(concept, lex):
            continue
        if concept in lex.generic and specific:
            continue
        out.append((concept, score, piece))
    return out


def near_signs(intake: dict[str, Any], lex: Lexicon) -> list[str]:
    """Warning signs a piece of the story came near without reaching (``unexplained``): made
    relevant, so while unknown they are asked about and can never be left behind home care."""
    out: list[str] = []
    for item in intake.get("unexplained", []):
        cid = item.get("near")
        concept = lex.concepts.get(cid) if isinstance(cid, str) else None
        if concept is not None and concept.topic is not None and cid not in out:
            out.append(cid)
    return out


def unexplained_reason(intake: dict[str, Any]) -> str:
    from assistant.policy import messages

    said = [u.get("said", "") for u in intake.get("unexplained", [])]
    return messages.TRIAGE_UNEXPLAINED.format(said="; ".join(f'"{s}"' for s in said[:2]))
