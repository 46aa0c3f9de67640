"""The intake record a case keeps across turns (JSON, in ``case["intake"]``) and how one
message updates it: new facts, answers to the questions just asked, who is ill and their age.

    intake = new_intake()
    update(intake, parse(text, expect=expected_values(intake)), turn=1)

Facts: ``{concept: {"status": present|absent|possible|unsure, "turn": n, "said": "..."}}``.
A "no" to a question settles every concept of the asked topics; a "yes" without detail marks
them "possible" (counted as present: the safer reading); "not sure" marks them "unsure".
"""

from __future__ import annotations

import re
from typing import Any

from tools.triage.answers import answer_scope
from tools.triage.lexicon import Lexicon, lexicon
from tools.triage.parse import QUALIFIERS, Findings, polarity, sentence_polarity

ADULT: list[float] = [16.0, 110.0]
INTAKE_VERSION = 1
MAX_FACTS = 300
MAX_UNEXPLAINED = 12
NOT_UNDERSTOOD = "the answer was not understood twice"
"""Why a warning sign is left unsure: asked twice, neither answer understood."""


def new_intake(episode: int = 1, keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """An empty record; ``keep`` carries who is ill and their risk factors into a new episode."""
    keep = keep or {}
    return {
        "version": INTAKE_VERSION,
        "episode": episode,
        "subject": dict(
            keep.get("subject")
            or {"who": None, "relation": None, "sex": None, "age": None, "age_stated": False}
        ),
        "facts": dict(keep.get("risk_facts") or {}),
        "values": {
            "duration": None,
            "duration_by": {},
            "temperature": None,
            "severity": None,
            "course": None,
        },
        "asked": {},
        "pending": [],
        "rounds": 0,
        "turns": 0,
        "red_flags": [],
        "unexplained": [],
        "levels": [],
        "final": False,
    }


def expected_values(intake: dict[str, Any]) -> frozenset[str]:
    """Value facts just asked about (so a bare "46" or "4 days" can be read as the answer)."""
    out: set[str] = set()
    for q in intake.get("pending", []):
        for topic in q.get("topics", []):
            out.add({"pain_severity": "severity", "fever": "temperature"}.get(topic, topic))
    return frozenset(out)


def starts_new_episode(intake: dict[str, Any], found: Findings, lex: Lexicon | None = None) -> bool:
    """A new problem after a finished triage: complaints that were never part of this episode.
    Not after an emergency or same-day decision: what follows it is taken as more of the same
    story ("temp 38.9, been sick twice" after a rigid, painful tummy), so its level can only
    stay or rise; a new episode there would forget the warning signs already told."""
    lex = lex or lexicon()
    if not intake.get("final") or intake.get("pending"):
        return False
    levels = intake.get("levels") or []
    if levels and levels[-1].get("level") in ("emergency", "urgent"):
        return False
    known = set(intake.get("facts", {}))
    new = [
        c
        for c in found.present()
        if lex.concepts[c].kind == "complaint" and c not in known and c not in lex.generic
    ]
    return bool(new)


def next_episode(intake: dict[str, Any], lex: Lexicon | None = None) -> dict[str, Any]:
    lex = lex or lexicon()
    risk = {
        c: f
        for c, f in intake.get("facts", {}).items()
        if c in lex.concepts and lex.concepts[c].kind == "risk"
    }
    fresh = new_intake(
        intake.get("episode", 1) + 1, {"subject": intake.get("subject"), "risk_facts": risk}
    )
    fresh["levels"] = list(intake.get("levels", []))
    return fresh


def _set(facts: dict[str, Any], concept: str, status: str, turn: int, said: str = "") -> None:
    facts[concept] = {"status": status, "turn": turn, "said": said[:80]}


def update(
    intake: dict[str, Any], found: Findings, *, turn: int, lex: Lexicon | None = None
) -> None:
    """Fold one message into the record (in place)."""
    lex = lex or lexicon()
    facts: dict[str, Any] = intake.setdefault("facts", {})
    intake["turns"] = turn
    pending = list(intake.get("pending", []))
    if pending:
        _answer(intake, found, pending, turn, lex)
        intake["pending"] = []
    for concept, mention in found.mentions.items():
        prev = facts.get(concept, {}).get("status")
        if mention.status == "absent" and prev in ("present", "possible"):
            if facts[concept]["turn"] == turn:
                continue  # this turn's answer said yes; a stray "no" elsewhere does not undo it
            if lex.concepts[concept].kind == "complaint":
                continue  # a complaint stays part of the episode ("no numbness around my bottom")
        _set(facts, concept, mention.status, turn, mention.text)
    if len(facts) > MAX_FACTS:
        for key in list(facts)[: len(facts) - MAX_FACTS]:
            del facts[key]
    _update_subject(intake, found)
    _note_unexplained(intake, found, turn)
    values = intake.setdefault("values", {})
    if found.duration is not None:
        values["duration"] = list(found.duration)
    by = values.setdefault("duration_by", {})
    for concept, rng in found.duration_by.items():
        by[concept] = list(rng)
    if found.temperature is not None:
        prev_t = values.get("temperature")
        values["temperature"] = max(found.temperature, prev_t) if prev_t else found.temperature
    if found.severity is not None:
        values["severity"] = found.severity
    if found.course is not None:
        values["course"] = found.course


def _note_unexplained(intake: dict[str, Any], found: Findings, turn: int) -> None:
    """Pieces of the story nothing explained but near a concept (semantic.Near): kept for the
    episode, so the decision can never be home care and a near warning sign gets asked."""
    kept: list[dict[str, Any]] = intake.setdefault("unexplained", [])
    facts = intake.get("facts", {})
    for concept, score, piece in found.near:
        if len(kept) >= MAX_UNEXPLAINED:
            break
        if facts.get(concept, {}).get("status") in ("present", "possible"):
            continue  # the concept was recognised elsewhere in the story: the piece elaborates it
        kept.append({"near": concept, "score": score, "said": piece[:80], "turn": turn})


def _update_subject(intake: dict[str, Any], found: Findings) -> None:
    subj = intake.setdefault("subject", {})
    fresh = subj.get("who") is None or (found.subject == "other" and found.relation)
    if found.subject and fresh and (subj.get("who") != found.subject or found.relation):
        subj["who"] = found.subject
        subj["relation"] = found.relation or subj.get("relation")
    if found.sex and not subj.get("sex"):
        subj["sex"] = found.sex
    if found.age is not None and (found.age_stated or not subj.get("age_stated")):
        subj["age"] = list(found.age)
        subj["age_stated"] = found.age_stated
    if subj.get("who") is None and found.mentions:
        subj["who"] = "self"  # nobody else named: the writer is the one who is ill
    if subj.get("age") is None and subj.get("who") == "self":
        subj["age"] = list(ADULT)


def _answer(
    intake: dict[str, Any], found: Findings, pending: list[dict[str, Any]], turn: int, lex: Lexicon
) -> None:
    """Settle the concepts of the questions just asked from a free-text answer."""
    facts = intake["facts"]
    asked = intake.setdefault("asked", {})
    topics = [t for q in pending for t in q.get("topics", [])]
    sentences = found.sentences
    # A new complaint instead of an answer ("My throat is sore. What should I do?" after "Is
    # any of this happening now: severe breathlessness?"): its symptom words are no "yes" to
    # the questions asked; only an explicit yes/no counts, and the questions stay open.
    elsewhere = any(
        m.status != "absent"
        and c in lex.concepts
        and lex.concepts[c].topic not in topics
        and c not in QUALIFIERS  # "since this morning" is no new complaint
        for c, m in found.mentions.items()
    )

    def answer_polarity(sentence: str) -> str | None:
        pol = sentence_polarity(sentence)
        if pol == "yes" and elsewhere and polarity(sentence) is None:
            return None
        return pol

    by_topic: dict[str, str | None] = {}
    # the topics a topic-bound no speaks to (answers.answer_scope), per sentence as its polarity
    scopes: dict[str, frozenset[str] | None] = {}
    if len(sentences) == len(topics) and len(topics) > 1:
        for topic, sentence in zip(topics, sentences, strict=True):
            by_topic[topic] = answer_polarity(sentence)
            scopes[topic] = answer_scope(sentence)
    overall = answer_polarity(sentences[0]) if sentences else None
    overall_scope = answer_scope(sentences[0]) if sentences else None
    described = any(
        m.status != "absent" and c in lex.concepts and lex.concepts[c].topic in topics
        for c, m in found.mentions.items()
    ) or (elsewhere and overall is None)
    if described and overall == "yes" and not by_topic:
        overall = None  # "yes, it came on suddenly": the yes is about what was described
    before = dict(asked)  # topics asked in earlier turns: a second non-answer counts as unsure
    for q in pending:
        for topic in q.get("topics", []):
            asked[topic] = turn
            concepts = [
                c
                for c in q.get("concepts", [])
                if c in lex.concepts and lex.concepts[c].topic == topic
            ]
            if lex.topics[topic].kind == "value":
                _answer_value(intake, found, topic, concepts, turn)
                continue
            mentioned = [
                c
                for c, m in found.mentions.items()
                if c in lex.concepts and lex.concepts[c].topic == topic and m.status != "absent"
            ]
            said_no = [
                c
                for c, m in found.mentions.items()
                if c in lex.concepts and lex.concepts[c].topic == topic and m.status == "absent"
            ]
            pol = by_topic.get(topic, overall)
            scope = scopes.get(topic, overall_scope)
            if pol == "no" and scope is not None and topic not in scope:
                pol = None  # round 12b mend: a topic-bound no answers its own topic only
            if pol == "yes" and q.get("describe") and not mentioned:
                pol = None  # "it hurts when I breathe in": not a yes to every feature listed
            if pol == "no" and not mentioned:  # a no covers the whole topic, asked or not
                concepts = [
                    c
                    for c, concept in lex.concepts.items()
                    if concept.topic == topic and c not in facts
                ] + concepts
            for c in concepts:
                if c in mentioned or c in said_no:
                    continue  # the mention itself decides (merged by the caller)
                if pol != "yes" and benign_description(lex, topic, c, found, facts):
                    _set(facts, c, "absent", turn, BENIGN_SAID)
                    continue
                if mentioned:
                    _set(facts, c, "absent", turn, "not among what was described")
                elif pol == "no" or said_no:
                    _set(facts, c, "absent", turn, "answered no")
                elif pol == "yes":
                    _set(facts, c, "possible", turn, "answered yes")
                elif pol is None and (described or q.get("describe")):
                    if q.get("describe"):
                        _set(facts, c, "unsure", turn, "described without these features")
                    elif topic in before:
                        # the second answer to this topic not understood either: it is not
                        # asked a third time, and the sign is not excluded (unsure counts as
                        # unknown: never home care, and the level stays up for it)
                        _set(facts, c, "unsure", turn, NOT_UNDERSTOOD)
                    continue  # not addressed: left open, so it can be asked again once
                elif pol is None and topic not in before:
                    # a message that does not address the question at all (the story goes on:
                    # "he goes to nursery so always has something"): left open and asked once
                    # more, not taken as "not sure"
                    continue
                else:
                    _set(facts, c, "unsure", turn, "not sure")


BENIGN_SAID = "described as the usual look of the illness told"
_DENIED_BEFORE = re.compile(r"\b(?:no|not|without|never|nor)\b[^.,;!?]{0,20}$")


def benign_description(
    lex: Lexicon, topic: str, concept: str, found: Findings, facts: dict[str, Any]
) -> bool:
    """Whether the answer describes the topic as the usual look of an illness already told, which
    answers ``concept`` with no (``Topic.benign``: "itchy blisters, some scabbing over" for a
    child with chickenpox is not a rash that does not fade under a glass)."""
    benign = lex.topics[topic].benign
    if benign is None or concept not in benign.closes:
        return False
    told = any(
        facts.get(c, {}).get("status") == "present" or found.status(c) == "present"
        for c in benign.when
    )
    if not told:
        return False
    return any(
        not _DENIED_BEFORE.search(found.text[: m.start()])
        for m in re.finditer(benign.described, found.text)
    )


def _answer_value(
    intake: dict[str, Any], found: Findings, topic: str, concepts: list[str], turn: int
) -> None:
    values = intake.setdefault("values", {})
    unsure = values.setdefault("unsure", [])
    got = {
        "duration": found.duration is not None,
        "age": found.age is not None and found.age_stated,
        "pain_severity": found.severity is not None,
        "course": found.course is not None,
    }.get(topic, False)
    if not got and topic not in unsure:
        unsure.append(topic)
