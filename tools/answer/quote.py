"""The answer when the model declines: the source's own sentences that answer the question
that was asked, quoted with their citation (checked like model text afterwards).

1. What is asked: the question's type (treatment, causes, symptoms, diagnosis, inheritance,
   prevention, outlook, complications, when to see a doctor, ...) from the cue words in
   ``knowledge/data/kb/consumer.yaml`` (MedQuAD's question types; the same data retrieval
   uses). "What is ..." asks for the generic ``information``.
2. About what: the retrieved passages whose topic the question names (more than half of the
   topic's distinctive words, :func:`tools.extract.named_share`), counting a term's synonyms
   ("Also called: Kidney stones") as its names; the top-ranked consumer passage needs one word.
3. Which sentences, for a specific type:

   - a named passage of that section ("Lyme disease — Treatment"): its best sentences;
   - else the named passages' sentences that speak of it (the type's cue words in the
     sentence: "Antibiotics can cure most cases of Lyme disease."), those that also name the
     topic first;
   - else nothing of that type was retrieved: the answer says so plainly
     (``messages.NO_SECTION``) before what the sources do say about the topic, so a
     definition is never passed off as a treatment.

   For "what is": the term's definition, or the best-ranked named passage's opening sentence
   and those sharing most words with the question.

Sentences are the units of :mod:`tools.answer.segment` (headings are never quoted, a sentence
that introduces a list brings its items, a sentence that points back, "This condition is
called scoliosis", brings the sentence it points to or is left out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tools.answer.segment import Unit, anaphoric, units
from tools.answer.text import content_words

QUOTE_SENTENCES = 3
QUOTE_CHARS = 500
LIST_ITEMS = 6
NAMED_SHARE = 0.6
_NAME_LIST = re.compile(r"^(also called|a type of|includes|codes|excludes|chapter)\s*:", re.I)
_SYNONYMS = re.compile(r"(?:^|\.\s+)Also called:\s*([^.\n]+)", re.I)
_XREF = re.compile(r"\s*\{[^{}]*\}")
"""Ontology cross-reference annotations left in some HPO definitions ({xref="PMID:..."})."""
_SUFFIX = r"(?:s|es|d|ed|ing|ment|ments|ance|ion|ions)?"

Grade = Callable[[str], float]


@dataclass
class Quote:
    sentences: list[str] = field(default_factory=list)
    """Cited sentences ("... [n]")."""
    kind: str = ""
    """"definition", "section" (the asked section), "sentences" (sentences of another
    section that speak of the asked type) or "other_section" (nothing of the asked type)."""
    missing: str | None = None
    """The asked section's key when nothing of that type was retrieved."""
    topic: str = ""


def asked_type(question: str) -> str | None:
    """The specific section the question asks for (its most specific cue), or None for a
    generic "what is" question or none named."""
    from knowledge.kb.sources import sections

    specific = [k for k in sections.asked_sections(question) if k != "information"]
    return specific[0] if specific else None


@lru_cache(maxsize=32)
def _cue(key: str) -> re.Pattern[str] | None:
    """A section's cue words as whole words with their inflections ("treat" -> "treated",
    "treatment"; never "gene" -> "general")."""
    from knowledge.kb.sources import sections

    cues = sections.config()["sections"].get(key, {}).get("cues", [])
    if not cues:
        return None
    alts = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"\b(?:{alts}){_SUFFIX}\b", re.I)


def _derived() -> frozenset[str]:
    from knowledge.kb.sources import sections

    return frozenset(sections.rules())


def speaks_of(sentence: str, key: str) -> bool:
    """Whether ``sentence`` uses the cue words of section ``key``; a capitalised word inside
    the sentence is part of a name ("the Centers for Disease Control and Prevention") and
    does not count."""
    cue = _cue(key)
    if cue is None:
        return False
    return any(m.start() == 0 or not m.group()[0].isupper() for m in cue.finditer(sentence))


def gives(passage: dict[str, Any], key: str) -> bool:
    """Whether ``passage`` is of section ``key`` or has a sentence that speaks of it."""
    if passage.get("section") == key:
        return True
    return any(u.kind == "sentence" and speaks_of(u.text, key) for u in _quotable(passage))


def names(passage: dict[str, Any]) -> list[str]:
    """The passage's topic (or title) and, for a term, its synonyms."""
    out = [str(passage.get("topic") or passage.get("title") or "")]
    if not passage.get("section"):
        for m in _SYNONYMS.finditer(str(passage.get("text", ""))):
            out.extend(s.strip() for s in m.group(1).split(";") if s.strip())
    return [n for n in out if n]


def named(question: str, passages: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of the retrieved passages whose topic (or a synonym) the question names."""
    from tools.extract import GENERIC, named_share

    generic = content_words(" ".join(GENERIC))
    out = []
    for i, p in enumerate(passages):
        share = max(
            (
                named_share(question, n, content_words)
                for n in names(p)
                if not content_words(n) <= generic  # "Chronic" names no topic
            ),
            default=0.0,
        )
        if share >= NAMED_SHARE or (i == 0 and p.get("section") and share > 0):
            out.append(i)
    return out


def _quotable(passage: dict[str, Any]) -> list[Unit]:
    title_words = content_words(str(passage.get("title", "")))
    keep = []
    for u in units(_XREF.sub("", str(passage.get("text", "")))):
        if u.kind == "heading" or _NAME_LIST.match(u.text) or not content_words(u.text):
            continue
        if u.kind == "sentence" and content_words(u.text) <= title_words:
            continue  # the bare title ("Gout.")
        keep.append(u)
    return keep


def _render(us: list[Unit], chosen: list[int], number: int, title: str, define: bool) -> list[str]:
    """The chosen sentences in the passage's order, each with the list it introduces."""
    out: list[str] = []
    for i in sorted(set(chosen)):
        text = us[i].text
        if us[i].intro:
            items: list[str] = []
            j = i + 1
            while j < len(us) and us[j].kind == "item" and len(items) < LIST_ITEMS:
                items.append(us[j].text.rstrip(".;,"))
                j += 1
            if items:
                text = f"{text.rstrip(':;, ')}: {'; '.join(items)}"
        if not text.endswith((".", "!", "?")):
            text = text.rstrip(":;, ") + "."
        if define and not out and not content_words(title) <= content_words(text):
            text = f"{title}: {text}"  # a definition that does not name its term
        out.append(f"{text} [{number}]")
    return out


def _pick(us: list[Unit], scores: list[float], opening: bool) -> list[int]:
    """Up to :data:`QUOTE_SENTENCES` best-scored sentences (ties: earlier first; with
    ``opening``, the opening sentence first and any sentence may follow, else only those
    scoring above 0); an anaphoric one brings the sentence before it, or is skipped when that
    does not fit."""
    heads = [i for i, u in enumerate(us) if u.kind == "sentence"]
    if not heads:
        return []
    ranked = sorted(heads, key=lambda i: (-scores[i], i))
    if opening and heads[0] not in ranked[:1]:
        ranked.remove(heads[0])
        ranked.insert(0, heads[0])
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if len(chosen) >= QUOTE_SENTENCES or (scores[i] <= 0 and not opening):
            break
        want = [i]
        if anaphoric(us[i].text):
            before = heads.index(i) - 1
            if before < 0:
                continue  # points back at nothing we can show
            if heads[before] not in chosen:
                want.insert(0, heads[before])
        size = sum(len(us[j].text) for j in want if j not in chosen)
        if chosen and used + size > QUOTE_CHARS:
            continue
        if len(chosen) + len([j for j in want if j not in chosen]) > QUOTE_SENTENCES:
            continue
        for j in want:
            if j not in chosen:
                chosen.append(j)
                used += len(us[j].text)
    return chosen


def _sentences_of(
    question: str, passage: dict[str, Any], number: int, key: str | None, opening: bool
) -> list[str]:
    us = _quotable(passage)
    asked = content_words(question)
    topic = content_words(" ".join(names(passage)[:1]))
    scores = []
    for i, u in enumerate(us):
        words = content_words(u.text)
        score = len(asked & words) + (0.5 if i == 0 else 0.0)
        if key is not None:  # only sentences that speak of the asked type
            score = (
                2.0 + (1.0 if topic & words else 0.0) + 0.1 * len(asked & words)
                if speaks_of(u.text, key)
                else 0.0
            )
        scores.append(score)
    chosen = _pick(us, scores, opening)
    title = str(passage.get("title", ""))
    return _render(us, chosen, number, title, define=not passage.get("section"))


def _plainest(ids: list[int], passages: Sequence[dict[str, Any]], grade: Grade | None) -> int:
    """Of passages of the same section, the best-ranked, or with ``grade`` the plainest of
    those sharing its section (one topic written up by two organisations)."""
    if grade is None or len(ids) < 2:
        return ids[0]
    same = names(passages[ids[0]])[0].lower()
    peers = [
        i
        for i in ids
        if passages[i].get("section") == passages[ids[0]].get("section")
        and names(passages[i])[0].lower() == same
    ]
    return min(peers, key=lambda i: (grade(str(passages[i].get("text", ""))), i))


def quote(question: str, passages: Sequence[dict[str, Any]], grade: Grade | None = None) -> Quote:
    """The quoted answer (empty when the question names no retrieved topic)."""
    hits = named(question, passages)
    if not hits:
        return Quote()
    topic = names(passages[hits[0]])[0]
    key = asked_type(question)
    if key in _derived():
        # self-care and care advice are derived from what sentences say, not from a page's
        # section or cue words: their absence cannot be told, so answer as for "what is"
        key = next((k for k in [key] if any(passages[i].get("section") == k for i in hits)), None)
    if key is not None:
        of_type = [i for i in hits if passages[i].get("section") == key]
        if of_type:
            i = _plainest(of_type, passages, grade)
            found = _sentences_of(question, passages[i], i + 1, None, opening=True)
            if found:
                return Quote(found, "section", topic=topic)
        best: tuple[float, int] | None = None
        for i in hits:
            for u in _quotable(passages[i]):
                if u.kind == "sentence" and speaks_of(u.text, key):
                    named_here = bool(content_words(topic) & content_words(u.text))
                    score = (1.0 if named_here else 0.0) - 0.01 * i
                    if best is None or score > best[0]:
                        best = (score, i)
        if best is not None:
            i = best[1]
            found = _sentences_of(question, passages[i], i + 1, key, opening=False)
            if found:
                return Quote(found, "sentences", topic=topic)
    general = [i for i in hits if passages[i].get("section") in (None, "", "information")]
    i = _plainest(general or hits, passages, grade)
    topic = names(passages[i])[0]
    found = _sentences_of(question, passages[i], i + 1, None, opening=True)
    if not passages[i].get("section"):
        found = found[:2]  # a term's definition: its first two sentences
    kind = "other_section" if key else "definition" if not passages[i].get("section") else "section"
    return Quote(found, kind, missing=key, topic=topic)


def gives_asked(
    sentences: Sequence[str], question: str, passages: Sequence[dict[str, Any]]
) -> bool:
    """Whether an answer's ``sentences`` give what the question asks for: one of them uses the
    asked type's cue words and names the topic (a distinctive word of a named passage's
    topic or synonyms). True for a question that asks for no particular type."""
    from tools.extract import head_words

    key = asked_type(question)
    if key is None:
        return True
    topic: set[str] = set()
    for i in named(question, passages):
        for name in names(passages[i]):
            topic |= head_words(name, content_words)
    return any(
        speaks_of(s, key) and (not topic or bool(topic & content_words(s))) for s in sentences
    )
