"""What to ask next and what to watch for: the one or two most informative questions (the rules
that could still raise the level, most urgent first, fewest unknowns first), what is still
missing, the safety-netting (which signs would change the advice) and each relevant warning
sign's status."""

from __future__ import annotations

from typing import Any

from tools.triage.lexicon import RANK, VALUE_FACTS, Lexicon, Rule
from tools.triage.logic import View, child_age_unknown, evaluate, relevant_items

MAX_TOPICS_PER_QUESTION = 3
MAX_QUESTIONS = 2
MAX_ITEMS_PER_QUESTION = 4
# Questions about the person rather than a symptom: asked on their own, in their own words.
RISK_TOPICS = frozenset(
    {"pregnancy", "medicines", "immunity", "conditions", "travel", "surgery", "age", "self_harm"}
)
VALUE_LABELS = {
    "age": "the age of the person who is ill",
    "duration": "how long it has been going on",
    "severity": "how bad the pain is",
    "temperature": "the temperature",
}
Truth = bool | None  # None: unknown
OPEN_TOPIC = "describe"  # the open question, asked when nothing specific was recognised


def open_question(lex: Lexicon) -> dict[str, Any]:
    return {
        "id": OPEN_TOPIC,
        "text": lex.topics[OPEN_TOPIC].question,
        "topics": [OPEN_TOPIC],
        "concepts": [],
        "describe": True,
    }


def missing_items(raising: list[tuple[Rule, list[str]]], lex: Lexicon) -> list[str]:
    out: list[str] = []
    for _rule, unknown in sorted(raising, key=lambda ru: -RANK[ru[0].level]):
        for item in unknown:
            name = VALUE_LABELS[item] if item in VALUE_FACTS else lex.concepts[item].name
            if name not in out:
                out.append(name)
    return out[:8]


def next_questions(
    raising: list[tuple[Rule, list[str]]],
    view: View,
    lex: Lexicon,
    intake: dict[str, Any],
    present: list[str],
) -> list[dict[str, Any]]:
    """The one or two most informative questions, as {id, text, topics, concepts}."""
    asked = intake.get("asked", {})
    unsure_values = set(intake.get("values", {}).get("unsure", []))
    order = {item: i for i, item in enumerate(relevant_items(intake, lex, present))}
    best: dict[str, tuple[int, int, int]] = {}  # topic -> sort key (lower first)
    concepts_of: dict[str, list[str]] = {}
    for rule, unknown in raising:
        key_base = (-RANK[rule.level], len(unknown))
        for item in unknown:
            topic = lex.topic_of(item)
            if topic is None:
                continue
            if item in VALUE_FACTS and (topic in asked or topic in unsure_values):
                continue
            if item not in VALUE_FACTS and view.facts.get(item, {}).get("status") == "unsure":
                continue
            key = (*key_base, order.get(item, 999))
            if topic not in best or key < best[topic]:
                best[topic] = key
            if item not in VALUE_FACTS:
                concepts_of.setdefault(topic, [])
                if item not in concepts_of[topic]:
                    concepts_of[topic].append(item)
    if not best:
        return []
    age_topic = lex.topic_of("age")
    if age_topic in best and child_age_unknown(intake):
        best[age_topic] = (-len(RANK), 0, -1)  # who is ill comes first (see child_age_unknown)
    ranked = sorted(best, key=lambda t: best[t])
    followups = {
        t
        for t in ranked
        if lex.topics[t].followup and any(lex.concepts[c].topic == t for c in present)
    }
    questions: list[dict[str, Any]] = []
    used: set[str] = set()
    for topic in ranked:
        if topic in used or len(questions) >= MAX_QUESTIONS:
            continue
        group = [topic]
        if (
            lex.topics[topic].kind == "yes_no"
            and topic not in followups
            and topic not in RISK_TOPICS
        ):
            level = best[topic][0]
            size = len(concepts_of.get(topic, [])) or 1
            for other in ranked:
                if len(group) >= MAX_TOPICS_PER_QUESTION:
                    break
                if other in used or other == topic or other in followups or other in RISK_TOPICS:
                    continue
                if lex.topics[other].kind != "yes_no" or best[other][0] != level:
                    continue
                extra = len(concepts_of.get(other, [])) or 1
                if size + extra > MAX_ITEMS_PER_QUESTION:
                    continue
                group.append(other)
                size += extra
        used.update(group)
        concepts = [c for t in group for c in concepts_of.get(t, [])]
        questions.append(
            {
                "id": "+".join(group),
                "text": _question_text(group, concepts, lex, present),
                "topics": group,
                "concepts": concepts,
                "describe": len(group) == 1 and group[0] in followups,
            }
        )
    return questions


def _question_text(group: list[str], concepts: list[str], lex: Lexicon, present: list[str]) -> str:
    if len(group) == 1:
        topic = lex.topics[group[0]]
        known = any(lex.concepts[c].topic == group[0] for c in present)
        if known and topic.followup:
            return topic.followup
        if len(concepts) <= 1 or topic.kind == "value" or group[0] in RISK_TOPICS:
            return topic.question
    names = [lex.concepts[c].name for c in concepts]
    from assistant.policy import messages

    if len(names) > 1:
        listed = "; ".join(names[:-1]) + "; or " + names[-1]
    else:
        listed = names[0] if names else ", ".join(group)
    return messages.TRIAGE_BUNDLE_QUESTION.format(items=listed)


def safety_net(
    view: View, relevant: list[str], level: str, present: list[str], lex: Lexicon
) -> tuple[dict[str, list[str]], str | None]:
    """Signs that would change the advice (what to watch for), and when to see a doctor."""
    out: dict[str, list[str]] = {"emergency": [], "urgent": []}
    candidates = [
        c for c in relevant if c in lex.concepts and lex.concepts[c].kind in ("sign", "complaint")
    ]
    index = _rules_by_concept(lex)
    for cid in candidates:
        if view.concept(cid) is True:
            continue
        view.forced = {cid: True}
        for other in relevant:
            if other in lex.concepts and other != cid and view.concept(other) is None:
                view.forced[other] = False
        top = "self_care"
        for rule in index.get(cid, ()):
            truth, _u = evaluate(rule, view)
            if truth is True and RANK[rule.level] > RANK[top]:
                top = rule.level
        view.forced = {}
        if top in out and RANK[top] > RANK[level] and lex.concepts[cid].name not in out[top]:
            out[top].append(lex.concepts[cid].name)
    out = {k: v[:4] for k, v in out.items() if v}
    review = None
    if level in ("self_care", "routine"):
        for c in present:
            p = lex.protocols.get(c)
            if p and p.review:
                review = p.review
                break
    return out, review


def _rules_by_concept(lex: Lexicon) -> dict[str, list[Rule]]:
    """Rules that a concept can make hold (it is in their `all` or `any`)."""
    if "rules_by_concept" not in lex.cache:
        index: dict[str, list[Rule]] = {}
        for rule in lex.rules:
            for cid in {*rule.when.all, *rule.when.any}:
                index.setdefault(cid, []).append(rule)
        lex.cache["rules_by_concept"] = index
    index_: dict[str, list[Rule]] = lex.cache["rules_by_concept"]
    return index_


def red_flag_status(view: View, relevant: list[str], lex: Lexicon) -> dict[str, str]:
    """Each relevant warning sign: present, absent, unsure or not_asked."""
    out: dict[str, str] = {}
    for cid in relevant:
        if cid not in lex.concepts or lex.concepts[cid].kind != "sign":
            continue
        status = view.facts.get(cid, {}).get("status")
        out[cid] = {
            "present": "present",
            "possible": "present",
            "absent": "absent",
            "unsure": "unsure",
        }.get(status or "", "not_asked")
    return out
