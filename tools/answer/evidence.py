"""The evidence an answer may use: this turn's passages (defanged, focused on the question),
the case's facts, the care passage, and the model prompt built from them."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from assistant.core.embeddings import Embedder, HashingEmbedder
from assistant.core.state import Message
from assistant.policy import safety
from tools.answer.segment import strip_references
from tools.answer.segment import units as passage_units
from tools.answer.text import content_words
from tools.base import ToolContext

MAX_PASSAGES = 3
MAX_PASSAGE_CHARS = 1400
"""Passage text kept per retrieved passage (a consumer-health passage part is at most 1,400
characters); the model sees only the focused sentences (:data:`EVIDENCE_CHARS`)."""
CARE_CHARS = 300
"""Characters of a topic's "when to see a doctor" passage added to a patient-mode answer."""
EVIDENCE_CHARS = 600
"""Passage text in the model prompt, all sources together. On 2 cores the local model reads a
prompt at ~150-250 tokens/s, so the prompt's length sets the time to the first token: the
sentences that best match the question are kept (:func:`focus_passages`)."""
FIRST_SENTENCE_BONUS = 0.15
"""A passage's opening sentence is usually its definition: prefer it over a later one."""
ASKED_TYPE_BONUS = 0.3
"""A sentence that gives what the question asks for (it uses the asked type's cue words and
names its passage's topic: "Antibiotics can cure most cases of Lyme disease.")."""
RANK_PENALTY = 0.05
"""Per retrieval rank: at equal match, a sentence from a better-ranked passage goes first."""
MAX_FACTS = 20


def prompt(mode: str) -> str:
    return (
        resources.files("assistant.policy.prompts")
        .joinpath(f"answer_{mode}.md")
        .read_text(encoding="utf-8")
        .strip()
    )


def passages_from(
    ctx: ToolContext, question: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Passages retrieved in this turn that are strong enough to answer from (defanged, the
    source's reference markers removed), and whether any of them carried an injected
    instruction. With ``question``: the best-ranked :data:`MAX_PASSAGES`, except that a
    lower-ranked passage about the topic the question names that gives what it asks for
    (treatment, causes, ...) takes the place of the lowest-ranked one that does not
    (:func:`asked_first`)."""
    found, injected = _retrieved(ctx)
    if question is not None:
        found = asked_first(question, found)
    return found[:MAX_PASSAGES], injected


def asked_first(question: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``found`` with the passages that answer the asked type moved into the first
    :data:`MAX_PASSAGES` (in rank order otherwise)."""
    from tools.answer.quote import asked_type, gives, named

    key = asked_type(question)
    if key is None or len(found) <= MAX_PASSAGES:
        return found
    about = set(named(question, found))
    useful = [i in about and gives(found[i], key) for i in range(len(found))]
    top = list(range(MAX_PASSAGES))
    for i in range(MAX_PASSAGES, len(found)):
        if not useful[i]:
            continue
        spare = [j for j in top if not useful[j]]
        if not spare:
            break
        top.remove(spare[-1])
        top.append(i)
    top.sort()
    return [found[i] for i in top] + [p for i, p in enumerate(found) if i not in top]


def _retrieved(ctx: ToolContext) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    injected = False
    for call in ctx.turn_calls:
        if call.name != "search_knowledge" or not call.ok or not call.result:
            continue
        if call.result.get("abstain"):
            continue
        for passage in call.result.get("results", []):
            pid = str(passage.get("id", ""))
            if not pid or pid in seen:
                continue
            seen.add(pid)
            text, changed = safety.neutralize(str(passage.get("text", ""))[: MAX_PASSAGE_CHARS * 2])
            injected = injected or changed
            text = strip_references(text)[:MAX_PASSAGE_CHARS]
            found.append(dict(passage, id=pid, text=text))
    return found, injected


class _MemoEmbedder:
    """Remembers vectors for one answer, so the evidence sentences embedded to focus the prompt
    are not embedded again by the support check."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


def semantic(embedder: Embedder | None) -> bool:
    """Whether ``embedder`` captures meaning (the hashing fallback only sees shared strings)."""
    return embedder is not None and not isinstance(embedder, HashingEmbedder)


def focus_passages(
    question: str,
    passages: list[dict[str, Any]],
    embedder: Embedder | None = None,
    budget: int = EVIDENCE_CHARS,
) -> list[dict[str, Any]]:
    """The passages cut down to the sentences that best answer ``question``, ``budget``
        characters of text in all, in their original order; passages left with nothing are
        dropped. The top passage's opening sentence is always kept, unless the question asks for one
    kind of information (:func:`tools.answer.quote.asked_type`): then a sentence that gives it
    scores :data:`ASKED_TYPE_BONUS` more. Sentences are scored by the
        share of the question's content words they hold plus, with a semantic embedder, their
        cosine to the question."""
    layout: dict[tuple[int, int], int] = {}  # (passage, unit) -> its line
    units: list[tuple[int, int, str]] = []
    for pi, p in enumerate(passages):
        shown = [u for u in passage_units(str(p.get("text", ""))) if u.kind != "heading"]
        for si, u in enumerate(shown):
            units.append((pi, si, u.text))
            layout[pi, si] = u.line
    if not units or sum(len(u[2]) + 1 for u in units) <= budget:
        return passages
    from tools.answer.quote import asked_type, names, speaks_of

    asked = content_words(question)
    key = asked_type(question)
    topics = [content_words(" ".join(names(p)[:1])) for p in passages]
    scores = np.array(
        [
            len(asked & content_words(s)) / max(len(asked), 1)
            + (FIRST_SENTENCE_BONUS if si == 0 else 0.0)
            - RANK_PENALTY * pi
            + (
                ASKED_TYPE_BONUS
                if key and speaks_of(s, key) and topics[pi] & content_words(s)
                else 0.0
            )
            for pi, si, s in units
        ]
    )
    if semantic(embedder):
        assert embedder is not None
        try:
            vecs = embedder.embed([question] + [s for _, _, s in units])
            scores = scores + vecs[1:] @ vecs[0]
        except Exception:  # scoring falls back to word overlap
            pass
    chosen: dict[int, str] = {}
    used = 0
    # the top passage's opening sentence first, unless the question asks for one kind of
    # information (treatment, causes ...): then the sentences that give it
    for i in [*([] if key else [0]), *np.argsort(-scores, kind="stable").tolist()]:
        sentence = units[i][2]
        if i in chosen or (chosen and used + len(sentence) + 1 > budget):
            continue
        chosen[i] = sentence[:budget]
        used += len(chosen[i]) + 1
    focused = []
    for pi, passage in enumerate(passages):
        text = ""
        last_line = None
        for i, (upi, si, _) in enumerate(units):
            if upi != pi or i not in chosen:
                continue
            line = layout[pi, si]
            piece = chosen[i]
            # a heading is never sent, and a unit of another line starts a new line, so the
            # model does not see a list item or a heading run into the next sentence
            text += piece if not text else (" " if line == last_line else "\n") + piece
            last_line = line
        if text:
            focused.append(dict(passage, text=text))
    return focused


def case_facts(ctx: ToolContext) -> list[str]:
    """The case's findings and image results as short factual lines (defanged)."""
    facts: list[str] = []
    for ent in ctx.case.get("findings", [])[-MAX_FACTS:]:
        # Whole sentences: the small local model answers from these far more reliably than
        # from "label: text (status)" fragments, which it tends to answer "I don't know" to.
        text = safety.neutralize(str(ent.get("text", "")))[0][:120]
        section = f" ({ent['section']} section)" if ent.get("section") else ""
        label = str(ent.get("label", "ENTITY")).lower()
        if ent.get("negated"):
            facts.append(f"The report{section} says there is no {text}.")
        elif ent.get("uncertain"):
            facts.append(f"The report{section} says {text} is possible but uncertain.")
        elif ent.get("historical"):
            facts.append(f"The report{section} mentions {text} in the patient's history.")
        elif label == "finding":
            facts.append(f"The report{section} says {text} is present.")
        else:
            facts.append(f"The report{section} mentions {label} {text}.")
    for img in ctx.case.get("images", [])[-4:]:
        if img.get("in_distribution") is False:
            facts.append(
                f"The image {img.get('name', '')} was not assessed "
                f"({img.get('reason', 'out of scope')})."
            )
        elif img.get("label"):
            prob = img.get("probabilities", {}).get(img["label"])
            p = f" (model probability {prob:.2f})" if isinstance(prob, float) else ""
            facts.append(f"The image model labelled {img.get('name', '')} as {img['label']}{p}.")
    return facts


def build_messages(
    question: str, passages: list[dict[str, Any]], facts: list[str], mode: str
) -> list[Message]:
    """The model prompt: fixed rules (system), then this case's evidence and the question."""
    parts = []
    if passages:
        parts.append("Sources:")
        for i, p in enumerate(passages, 1):
            parts.append(f"[{i}] {p.get('title', '')}: {p.get('text', '')}")
    if facts and mode == "clinician":
        parts.append("Case facts (from this case's reports and images):")
        parts.extend(f"- {f}" for f in facts)
    parts.append(f"Question: {safety.neutralize(question)[0]}")
    return [
        {"role": "system", "content": prompt(mode)},
        {"role": "user", "content": "\n".join(parts)},
    ]


def care_passage(ctx: ToolContext, passages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The "when to see a doctor" passage this turn's search returned for its top consumer
    topic (``care`` in the search_knowledge result), defanged; None if there is none."""
    for call in ctx.turn_calls:
        if call.name != "search_knowledge" or not call.ok or not call.result:
            continue
        care = call.result.get("care")
        if care and care.get("id"):
            text, _ = safety.neutralize(str(care.get("text", ""))[: MAX_PASSAGE_CHARS * 2])
            return dict(care, text=text[:MAX_PASSAGE_CHARS])
    return None


def care_text(text: str, budget: int = CARE_CHARS) -> str:
    """The opening lines of a care passage, whole lines, about ``budget`` characters."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and sum(len(x) + 1 for x in out) + len(line) > budget:
            break
        out.append(line)
    return "\n".join(out)
