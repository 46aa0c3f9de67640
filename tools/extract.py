"""The answer when the model declines: the best-matching section of the best-matching topic,
quoted from the source with its citation (checked like any model sentence afterwards).

- Topic: the best-ranked retrieved passage whose topic the question names: more than half
  (:data:`NAMED_SHARE`) of the topic's distinctive words ("Common Cold" -> cold; "Kidney Stones
  in Adults" -> kidney, stones) appear in the question; the top-ranked consumer-health passage
  needs only one ("bee sting" and "Insect Bites and Stings"). A question that names no
  retrieved topic gets nothing (the caller says "I don't know").
- Section: among that topic's retrieved passages, the one whose section the question asks for
  (cue words in ``knowledge/data/kb/consumer.yaml``: "what should I do" -> self-care,
  "symptoms" -> symptoms), else the best-ranked one.
- Sentences: the passage's opening sentence and those sharing most words with the question,
  in the passage's order, at most :data:`EXTRACT_SENTENCES` (a sentence that introduces a list
  brings its items).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from assistant.policy import messages, safety

NAMED_SHARE = 0.6
EXTRACT_SENTENCES = 3
EXTRACT_CHARS = 500
LIST_ITEMS = 6
GENERIC = frozenset(
    [
        "common",
        "disease",
        "diseases",
        "disorder",
        "disorders",
        "syndrome",
        "syndromes",
        "condition",
        "conditions",
        "type",
        "types",
        "adult",
        "adults",
        "child",
        "children",
        "childhood",
        "infant",
        "infants",
        "problem",
        "problems",
        "health",
        "information",
        "about",
        "what",
        "need",
        "know",
        "treatment",
        "treated",
        "general",
        "acute",
        "chronic",
        "primary",
        "secondary",
        "familial",
        "hereditary",
        "congenital",
        "juvenile",
        "related",
        "associated",
        "deficiency",
    ]
)
"""Words that do not on their own say which topic a question is about."""
_NAME_LIST = re.compile(r"^(also called|a type of|includes|codes|excludes|chapter)\s*:", re.I)

Words = Callable[[str], set[str]]


def head_words(topic: str, words: Words) -> set[str]:
    """The topic's distinctive words, in the form ``words`` gives them (stemmed)."""
    found = words(topic)
    return (found - words(" ".join(GENERIC))) or found


def named_share(question: str, topic: str, words: Words) -> float:
    head = head_words(topic, words)
    return len(head & words(question)) / len(head) if head else 0.0


Grade = Callable[[str], float]


def pick(
    question: str,
    passages: Sequence[dict[str, Any]],
    words: Words,
    grade: Grade | None = None,
) -> int | None:
    """Index of the passage to quote, or None when no retrieved topic is named. With
    ``grade`` (a reading grade), the plainer of equally relevant passages: the same share of
    their topic named by the question and the same section (the asked one, or the chosen
    passage's), e.g. one topic written up by two organisations."""
    from knowledge.kb.sources import sections

    topic_of = [str(p.get("topic") or p.get("title") or "") for p in passages]
    share = [named_share(question, t, words) if t else 0.0 for t in topic_of]
    named = [
        i
        for i in range(len(passages))
        if share[i] >= NAMED_SHARE or (i == 0 and passages[i].get("section") and share[i] > 0)
    ]
    if not named:
        return None
    chosen = named[0]
    same = [i for i, t in enumerate(topic_of) if t.lower() == topic_of[chosen].lower()]
    for key in sections.asked_sections(question):
        hit = next((i for i in same if passages[i].get("section") == key), None)
        if hit is not None:
            chosen = hit
            break
    if grade is None:
        return chosen
    peers = [chosen] + [
        i
        for i in named
        if i != chosen
        and share[i] == share[chosen]
        and passages[i].get("section") == passages[chosen].get("section")
    ]
    if len(peers) < 2:
        return chosen
    return min(peers, key=lambda i: (grade(str(passages[i].get("text", ""))), i != chosen, i))


def quote(question: str, passage: dict[str, Any], number: int, words: Words) -> list[str]:
    """Sentences of ``passage`` that best answer ``question``, each cited ``[number]``."""
    text = re.sub(r"\s*\{[^{}]*\}", "", str(passage.get("text", "")))  # HPO {xref=...}
    units = [u for u in safety.split_sentences(text) if words(u) and not _NAME_LIST.match(u)]
    title = str(passage.get("title", ""))
    named = words(title)
    units = [u for u in units if not words(u) <= named or u.startswith("- ")]
    if not units:
        return []
    asked = words(question)
    scored = [
        (len(asked & words(u)) + (0.5 if i == 0 else 0.0), -i)
        for i, u in enumerate(units)
        if not u.startswith("- ")
    ]
    heads = [i for i, u in enumerate(units) if not u.startswith("- ")]
    ranked = [heads[j] for j in sorted(range(len(scored)), key=lambda j: scored[j], reverse=True)]
    keep: set[int] = set()
    used = 0
    for i in ranked[:EXTRACT_SENTENCES]:
        if used and used + len(units[i]) > EXTRACT_CHARS:
            continue
        keep.add(i)
        used += len(units[i])
        if not units[i].endswith((".", "!", "?")):  # introduces a list: bring its items
            j = i + 1
            while j < len(units) and units[j].startswith("- ") and j - i <= LIST_ITEMS:
                keep.add(j)
                j += 1
    out: list[str] = []
    for i in sorted(keep):
        text = units[i]
        if text.startswith("- "):
            if out and out[-1].endswith(":"):  # the list's first item joins its introduction
                out[-1] = f"{out[-1]} {text[2:]}"
            elif out and not out[-1].endswith((".", "!", "?")):
                out[-1] = f"{out[-1]}; {text[2:]}"
            else:
                out.append(text[2:])
            continue
        if not text.endswith((".", "!", "?", ":")):
            text += ":"
        if not out and not passage.get("section") and not named <= words(text):
            text = f"{title}: {text}"  # a definition that does not name its term
        out.append(text)
    return [f"{t.rstrip(':;')}{'' if t[-1] in '.!?' else '.'} [{number}]" for t in out]


def section_sentences(
    question: str, passages: Sequence[dict[str, Any]], words: Words, grade: Grade | None = None
) -> tuple[list[str], str]:
    """(cited sentences, "definition" or "section"); ([], "") when no topic is named."""
    i = pick(question, passages, words, grade)
    if i is None:
        return [], ""
    kind = "section" if passages[i].get("section") else "definition"
    return quote(question, passages[i], i + 1, words), kind


DIFFERENTIAL = re.compile(r"\b(?:differentials?|ddx)\b", re.IGNORECASE)
"""A question asking for a differential diagnosis."""


def causes_passage(question: str, passages: Sequence[dict[str, Any]], words: Words) -> int | None:
    """The best-ranked retrieved "causes" section whose topic shares a distinctive word with
    the question ("unilateral pleural effusion" and "Pleurisy and Other Pleural Disorders")."""
    asked = words(question)
    for i, p in enumerate(passages):
        if p.get("section") == "causes" and head_words(str(p.get("topic") or ""), words) & asked:
            return i
    return None


def differential_answer(
    question: str, passages: list[dict[str, Any]], embedder: Any, emit: Any
) -> dict[str, Any]:
    """The answer to "what is the differential for ...": the knowledge base has no clinical
    differential source, so it says that plainly and quotes the causes a retrieved
    consumer-health page lists (checked and cited like any answer), or says it has none."""
    from tools.answer import Composer, SupportChecker, citations, content_words
    from tools.verbatim import Verbatim

    i = causes_passage(question, passages, content_words)
    composer = Composer(
        SupportChecker(passages, [], embedder), "clinician", verbatim=Verbatim.of(passages)
    )
    if i is not None:
        for sentence in quote(question, passages[i], i + 1, content_words):
            composer.add(sentence)
    grounded = composer.supported > 0
    answer = (
        f"{messages.DIFFERENTIAL_SCOPE}\n\n{composer.text}"
        if grounded
        else messages.DIFFERENTIAL_NONE
    )
    if emit is not None:
        emit(answer)
    return {
        "answer": answer,
        "grounded": grounded,
        "citations": citations([passages[j] for j in composer.order]) if grounded else [],
        "evidence": len(passages),
        "method": "differential",
        "support": {
            "claims": composer.claims,
            "supported": composer.supported,
            "removed": len(composer.removed),
        },
        "removed": len(composer.removed),
        "dont_know": None if grounded else "no_causes_source",
        "needs_review": True,
    }
