"""What counts as a part of the story that was not understood.

The semantic matcher reports each piece nothing matched whose nearest concept is nearer than the
"nothing wrong" background and a little below the threshold (``semantic.Near``). Such a piece
is kept as *unexplained* unless it is plainly explained another way:

- it denies something ("no blood", "doesn't hurt at all"): a denial adds nothing to explain;
- its nearest concept was recognised in the same message anyway (the piece elaborates it);
- its nearest concept can only ever lead to home care (no rule about it is above self-care,
  except rules that also need a risk factor, such as pregnancy, which is recognised on its own);
- its nearest concept is a catch-all ("feeling unwell", "pain") while the message names a
  specific complaint (the piece elaborates that complaint);
- while the message names a specific complaint, the piece has no word of its own left once its
  words the lexicon recognised (a catch-all such as "swollen" too), grammar ("its a bit",
  "feels") and a figurative comparison are set aside: "its a bit swollen", "its swollen like a
  tennis ball", "my skin is like crazy paving". A comparison is figurative
  when it is about a thing, not the person ("like a golf ball", "like its in a vice", not "like
  I'm going to faint"), names no part of the body and holds nothing the lexicon recognises
  ("like my throat is closing" stays). A body part left over still counts ("my tummy looks like
  a balloon" is kept): a place on the body is part of what is wrong;
- likewise, a clause that only sets the scene after "with" or "while" ("with the heating on")
  holds no word of the triage vocabulary, no part of the body and nothing recognised.

Only pieces the embedder already found below its threshold are judged so: what it matches is
never undone here.

What is kept makes home care impossible for the episode, and a warning sign it came near is
asked about (``engine.near_signs``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tools.triage.lexicon import RANK, Lexicon
from tools.triage.semantic import sites

_DENIAL = re.compile(
    r"\b(?:no|not|never|nothing|none|nor|without|doesn.?t|don.?t|didn.?t|isn.?t|aren.?t|wasn.?t"
    r"|hasn.?t|haven.?t|hadn.?t)\b"
)


# grammar: words that say nothing of what is wrong (articles, pronouns, prepositions, linking
# and helping verbs, degree words)
_GRAMMAR = frozenset(
    re.findall(
        r"\S+",
        """a an the this that these those it its it's i i'm im me my you your he he's him his she
    she's her we our they their them is are was were be been being am has have had do does did
    get gets got feel feels felt feeling look looks looked looking seem seems seemed in on at of
    to from by for with into onto over under up down off out about around across through after
    before during while when and or but so then also just still now really very quite too bit
    little slight slightly kind sort some all""",
    )
)
_WORDS = re.compile(r"[a-z][a-z']*")
# a comparison: "like" or "as if" up to the end of the piece
_COMPARISON = re.compile(r"\b(?:like|as\s+if|as\s+though)\s+(?P<what>.+)$")
# a comparison about the person is a feeling, not a figure of speech ("like I'm going to faint")
_ABOUT_ME = re.compile(r"(?:i|i'm|im|i've|ive|i'd|me|my|you|your)\b")
# a clause that sets the scene: the piece follows one of these words
_SCENE = re.compile(r"\b(?:with|while)\s+$")


def _spans_in(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and e > start for s, e in spans)


def _own_words(text: str, start: int, end: int, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The words of ``text[start:end]`` that are not grammar and not inside a recognised span."""
    return [
        m.group(0)
        for m in _WORDS.finditer(text, start, end)
        if m.group(0) not in _GRAMMAR and not _spans_in(spans, m.start(), m.end())
    ]


def figurative(text: str, start: int, end: int, spans: Sequence[tuple[int, int]]) -> int:
    """Where a figurative comparison starts in ``text[start:end]`` (``end`` when there is
    none): "like" or "as if" followed by words about a thing, naming no part of the body and
    holding nothing recognised."""
    m = _COMPARISON.search(text, start, end)
    if m is None:
        return end
    what = m.group("what")
    if _ABOUT_ME.match(what) or sites(what) or _spans_in(spans, m.start("what"), end):
        return end
    return m.start()


def understood(
    piece: str, text: str, spans: Sequence[tuple[int, int]], vocabulary: frozenset[str]
) -> bool:
    """Whether a piece the embedder left below its threshold says nothing the rest of the
    message did not (see the module's docstring): no word of its own outside a figurative
    comparison, or a scene-setting clause with no triage word, body part or recognised span."""
    start = text.find(piece)
    if not piece or start < 0:
        return False
    end = start + len(piece)
    if not _own_words(text, start, figurative(text, start, end, spans), spans):
        return True
    words = _own_words(text, start, end, spans)
    return (
        bool(_SCENE.search(text, 0, start))
        and not sites(piece)
        and not _spans_in(spans, start, end)
        and not any(w in vocabulary for w in words)
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
    near: list[tuple[str, float, str]],
    mentions: dict[str, Any],
    lex: Lexicon,
    text: str = "",
    spans: Sequence[tuple[int, int]] = (),
    vocabulary: frozenset[str] = frozenset(),
) -> list[tuple[str, float, str]]:
    """The near misses that stay unexplained (see the module's docstring). ``text``: the
    normalised message the pieces come from; ``spans``: what the lexicon recognised in it;
    ``vocabulary``: the triage words (``text.vocabulary``)."""
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
        if specific and text and understood(piece, text, spans, vocabulary):
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
