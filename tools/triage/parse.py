"""Reading a patient's message: which concepts it mentions (present, absent, possible), who is
ill, their age and sex, how long it has been going on, temperature, pain score, and whether an
answer says yes, no or "not sure".

Concepts are found by the regular expressions in ``data/concepts.yaml`` and the HPO vocabulary
(after normalisation and spelling tolerance, ``text.py``); whether each mention is negated,
hedged, hypothetical or past history is decided by ConText (``context.py``); values by
``values.py``; answers' yes/no by ``answers.py``; the kind of message by ``story.py``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.sentences import split_sentences
from tools.triage.answers import NEG_START, polarity, sentence_polarity
from tools.triage.context import Status, clause_starts, statuses
from tools.triage.lexicon import Lexicon, lexicon
from tools.triage.story import general, health_story
from tools.triage.text import MAX_CHARS, OFF, normalize, phrases, vocabulary
from tools.triage.unexplained import keep_near
from tools.triage.values import (
    Range,
    parse_age,
    parse_durations,
    parse_severity,
    parse_subject,
    parse_temperature,
    without_baby_age,
)

__all__ = [
    "MAX_CHARS",
    "OFF",
    "Findings",
    "Mention",
    "educational_question",
    "mentions_symptoms",
    "normalize",
    "parse",
    "polarity",
    "sentence_polarity",
    "warm",
]


@dataclass
class Mention:
    concept: str
    status: Status
    start: int
    end: int
    text: str


@dataclass
class Findings:
    """Everything one message says (nothing here knows about earlier turns)."""

    text: str  # normalised
    mentions: dict[str, Mention] = field(default_factory=dict)
    subject: str | None = None  # "self" | "other"
    relation: str | None = None
    sex: str | None = None
    age: Range | None = None
    age_stated: bool = False
    duration: Range | None = None
    duration_by: dict[str, Range] = field(default_factory=dict)
    temperature: float | None = None
    severity: float | None = None
    course: str | None = None
    polarity: str | None = None  # for answers: "yes" | "no" | "unsure"
    sentences: list[str] = field(default_factory=list)
    # pieces nothing explained, near a concept: (concept, score, piece) - see semantic.Near
    near: list[tuple[str, float, str]] = field(default_factory=list)

    def status(self, concept: str) -> Status | None:
        m = self.mentions.get(concept)
        return m.status if m else None

    def present(self) -> list[str]:
        return [c for c, m in self.mentions.items() if m.status != "absent"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mentions": {c: m.status for c, m in self.mentions.items()},
            "subject": self.subject,
            "relation": self.relation,
            "sex": self.sex,
            "age": list(self.age) if self.age else None,
            "duration": list(self.duration) if self.duration else None,
            "temperature": self.temperature,
            "severity": self.severity,
            "course": self.course,
            "polarity": self.polarity,
        }


def warm() -> None:
    """Build the ConText pipeline and compile its rule matchers now (the first message would
    otherwise pay for the spaCy and medspaCy imports and the matcher compilation)."""
    text = "no fever, a sore throat"
    lex = lexicon()
    statuses(text, _matches(text, lex), lex)


def _matches(text: str, lex: Lexicon) -> list[tuple[str, int, int]]:
    """Every concept pattern's matches. A pattern whose matches must start with one of a few
    literal words is only tried where those words occur (same result as a full scan: see
    ``lexicon.leading_literals``), which keeps long pasted letters fast."""
    found: list[tuple[str, int, int]] = []
    if "hpo" not in OFF:
        found.extend(phrases(lex).find(text))  # the HPO vocabulary, as whole words
    if "patterns" in OFF:
        return found
    for cid, patterns in lex.compiled.items():
        leads = lex.leads.get(cid, ())
        for i, pattern in enumerate(patterns):
            lits = leads[i] if i < len(leads) else None
            if lits is None:
                spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
            else:
                spans = _anchored(pattern, text, lits)
            found.extend((cid, start, end) for start, end in spans if end > start)
    return found


def _anchored(pattern: re.Pattern[str], text: str, lits: frozenset[str]) -> list[tuple[int, int]]:
    starts: set[int] = set()
    for lit in lits:
        pos = text.find(lit)
        while pos != -1:
            starts.add(pos)
            pos = text.find(lit, pos + 1)
    out: list[tuple[int, int]] = []
    last = -1
    for pos in sorted(starts):
        if pos < last:
            continue
        m = pattern.match(text, pos)
        if m:
            out.append((m.start(), m.end()))
            last = max(m.end(), pos + 1)
    return out


def _told(found: Findings, cid: str) -> bool:
    mention = found.mentions.get(cid)
    return mention is not None and mention.status == "present"


def _subsumed(matches: list[tuple[str, int, int]], lex: Lexicon) -> list[tuple[str, int, int]]:
    """Drop a complaint matched inside a longer match of another complaint ("rash" inside
    "nappy rash", "cold" inside "cold sore")."""
    spans = [(c, s, e) for c, s, e in matches if lex.concepts[c].kind == "complaint"]
    out = []
    for cid, start, end in matches:
        inside = lex.concepts[cid].kind == "complaint" and any(
            c != cid and s <= start and end <= e and (e - s) > (end - start) for c, s, e in spans
        )
        if not inside:
            out.append((cid, start, end))
    return out


def _merge(status: Status | None, new: Status | None, *, risk: bool = False) -> Status | None:
    """Two mentions of one concept in a message: the later one wins ("a fever last week, no
    temperature today"), except that "possible" does not undo "present", and a risk factor told
    present is not undone by a later denial in the same message ("got back from Nigeria ...
    didn't take the malaria tablets": the travel stands; the safer reading)."""
    if new is None:
        return status
    if status == "present" and (new == "possible" or (risk and new == "absent")):
        return status
    return new


def parse(
    text: str,
    *,
    expect: frozenset[str] = frozenset(),
    lex: Lexicon | None = None,
    embedder: Any = None,
    cache_dir: Path | None = None,
) -> Findings:
    """Read one message. ``expect``: value topics just asked about (a bare "46" is then an age,
    "4 days" a duration, "7" a pain score, "38.6" a temperature). ``embedder``: the sentence
    embedder for semantic matching (``semantic.py``; off when None or not the one it was tuned
    for); ``cache_dir``: where its concept-phrase vectors are cached."""
    lex = lex or lexicon()
    norm = normalize(text, lex)
    found = Findings(text=norm)
    if not norm.strip():
        return found
    found.sentences = [s for s in split_sentences(norm, ".!?;") if s.strip()]
    found.polarity = sentence_polarity(found.sentences[0]) if found.sentences else None
    matches = _subsumed(_matches(norm, lex), lex)
    semantic = _semantic(norm, matches, lex, embedder, cache_dir, found.near)
    by_similarity = {c for c, _s, _e, _n in semantic} - {c for c, _s, _e in matches}
    matches += [(c, s, e) for c, s, e, _inability in semantic]
    # a semantic match to an inability ("unable to pee") carries its own negation: ConText's
    # reading of "can't" is the concept itself, unless the piece starts with a denial ("no, ...")
    inability = {(c, s) for c, s, _e, neg in semantic if neg}
    if matches:
        read = statuses(norm, matches, lex)
        read = [
            (cid, "present" if st == "absent" and (cid, m[1]) in inability else st)
            for m, (cid, st) in zip(matches, read, strict=True)
        ]
        ordered = sorted(zip(matches, read, strict=True), key=lambda ms: ms[0][1])
        for (cid, start, end), (_cid, status) in ordered:
            if status is None:
                continue
            prev = found.mentions.get(cid)
            risk = cid in lex.concepts and lex.concepts[cid].kind == "risk"
            merged = _merge(prev.status if prev else None, status, risk=risk)
            if prev is None or merged != prev.status:
                found.mentions[cid] = Mention(cid, str(merged), start, end, norm[start:end])
    for cid in [c for c, m in found.mentions.items() if m.status == "present"]:
        if any(_told(found, u) for u in lex.concepts[cid].unless):
            del found.mentions[cid]
    spans = [(s, e) for _c, s, e in matches]
    found.near = keep_near(found.near, found.mentions, lex, norm, spans, vocabulary(lex))
    if not any(lex.concepts[c].kind in ("complaint", "sign") for c in found.present()) and (
        health_story(norm) or found.near
    ):  # a health worry in words the lexicon lacks: the catch-all complaint, never nothing
        found.mentions["unwell_general"] = Mention("unwell_general", "present", 0, 0, "")
    found.mentions = dict(sorted(found.mentions.items(), key=lambda kv: kv[1].start))
    subj = parse_subject(norm, text)
    found.subject, found.relation, found.sex = subj.subject, subj.relation, subj.sex
    aged = without_baby_age(norm) if subj.nursing else norm
    found.age, found.age_stated = parse_age(
        aged, text, relation=subj.relation, bare="age" in expect
    )
    durations = parse_durations(norm)
    if not durations and "duration" in expect:
        for sentence in found.sentences:
            durations = parse_durations(sentence, bare=True)
            if durations:
                break
    if durations:
        found.duration = max((d.range for d in durations), key=lambda r: r[1])
        found.duration_by = _durations_by_complaint(durations, found, norm, lex)
    found.temperature = parse_temperature(norm, bare="temperature" in expect)
    found.severity = parse_severity(norm, bare="severity" in expect)
    found.course = _course(norm)
    _apply_values(found)
    # a measured temperature settles "fever": a piece near it ("a slight temp 37.6") is explained
    found.near = [n for n in found.near if n[0] not in found.mentions]
    onset = found.mentions.get("sudden_onset")
    if onset is not None and onset.text == "gradual":
        # "gradually misty over the past year": a sudden sign heard only by similarity is
        # contradicted by the story's own words
        for cid in by_similarity:
            if "sudden" in lex.concepts[cid].name.lower():
                found.mentions.pop(cid, None)
    return found


# timing modifiers: they qualify a story, they never explain a piece of it away
TIMING = frozenset({"within_hours", "tia_long_ago"})
# qualifiers of the story: never "something else" said instead of an answer (intake._answer)
QUALIFIERS = TIMING | {"family_diabetes"}


def _semantic(
    text: str,
    matches: list[tuple[str, int, int]],
    lex: Lexicon,
    embedder: Any,
    cache_dir: Path | None,
    near: list[tuple[str, float, str]] | None = None,
) -> list[tuple[str, int, int, bool]]:
    """Concepts the embedder finds in the pieces of the message the lexicon left unexplained:
    (concept, start, end, stated as an inability: "I can't pee at all"); ``near`` collects the
    pieces left unexplained that are near a concept."""
    if "semantic" in OFF or embedder is None:
        return []
    from tools.triage.semantic import matcher

    m = matcher(embedder, lex, cache_dir)
    if m is None:
        return []
    known = {c for c, _s, _e in matches}
    # a catch-all match ("pain", "swollen") explains nothing specific: it does not hide a piece
    # nor does a word of timing alone ("last night", "this morning": round 12a's TIA timing)
    explained = [(s, e) for c, s, e in matches if c not in lex.generic and c not in TIMING]
    out = []
    misses: list[Any] = []
    for hit in m.match(text, explained, misses):
        if hit.concept not in known:
            known.add(hit.concept)
            denied = hit.negative_form and bool(NEG_START.match(hit.piece))
            out.append((hit.concept, hit.start, hit.end, hit.negative_form and not denied))
    if near is not None:
        near.extend((n.concept, n.score, n.piece) for n in misses)
    return out


def _durations_by_complaint(
    durations: list[Any], found: Findings, text: str, lex: Lexicon
) -> dict[str, Range]:
    """Per complaint: the longest duration said in its own clause or in a clause that names no
    other complaint ("cough for 5 weeks, fever since yesterday" keeps the two apart)."""
    starts = clause_starts(text)

    def clause(pos: int) -> int:
        return starts[max(0, bisect.bisect_right(starts, pos) - 1)]

    complaints = {
        c: clause(m.start)
        for c, m in found.mentions.items()
        if lex.concepts[c].kind == "complaint" and m.end > m.start
    }
    owners: dict[int, set[str]] = {}
    for c, cl in complaints.items():
        owners.setdefault(cl, set()).add(c)
    out: dict[str, Range] = {}
    for c, cl in complaints.items():
        mine = [
            d.range
            for d in durations
            if clause(d.start) == cl or not (owners.get(clause(d.start), set()) - {c})
        ]
        if mine:
            out[c] = max(mine, key=lambda r: r[1])
    return out


_WORSE = re.compile(
    r"\b(?:getting\s+worse|worsening|gone\s+downhill|worse\s+(?:and\s+worse|today|now)|getting\s+more\s+often)\b"
)
_BETTER = re.compile(
    r"\b(?:getting\s+better|improving|easing(?:\s+off)?|feel(?:ing)?\s+(?:a\s+bit\s+)?better|settling)\b"
)


def _course(text: str) -> str | None:
    if _WORSE.search(text):
        return "worse"
    if _BETTER.search(text):
        return "better"
    return None


def _apply_values(found: Findings) -> None:
    """Facts implied by values: a measured temperature settles "fever"; pregnancy implies female;
    a gradual onset rules out a sudden one."""
    if found.temperature is not None:
        status = "present" if found.temperature >= 38.0 else "absent"
        found.mentions["fever"] = Mention("fever", status, 0, 0, f"{found.temperature:g}C")
    if found.status("pregnancy") in ("present", "possible") or re.search(
        r"\b(?:period|menopaus|pregnan|vagina|womb|breastfeed)", found.text
    ):
        found.sex = found.sex or "female"
    gradual = re.search(r"\b(?:gradual(?:ly)?|slowly|built\s+up|came\s+on\s+over)\b", found.text)
    if gradual and found.status("sudden_onset") is None:
        found.mentions["sudden_onset"] = Mention("sudden_onset", "absent", 0, 0, "gradual")


def educational_question(text: str) -> bool:
    """A general question with nobody in it ("what is a sore throat?", "is a cold contagious?")."""
    return general(normalize(text))


def mentions_symptoms(
    text: str,
    lex: Lexicon | None = None,
    *,
    embedder: Any = None,
    cache_dir: Path | None = None,
) -> bool:
    """Cheap check (no ConText) that a message tells of a health worry: a complaint or a warning
    sign in the patterns or the HPO vocabulary (after spelling tolerance), a person and a health
    cue in any words, or - with the embedder - a piece semantically close to a complaint or a
    warning sign; never a general question with nobody in it."""
    lex = lex or lexicon()
    norm = normalize(text, lex)
    if not norm.strip() or general(norm):
        return False
    for cid, patterns in lex.compiled.items():
        if lex.concepts[cid].kind in ("complaint", "sign") and any(
            p.search(norm) for p in patterns
        ):
            return True
    if any(lex.concepts[c].kind in ("complaint", "sign") for c, _s, _e in phrases(lex).find(norm)):
        return True
    if health_story(norm):
        return True
    return bool(_semantic(norm, [], lex, embedder, cache_dir))
