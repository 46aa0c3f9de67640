"""The decision: from an intake record to a level of care, its reasons, the next questions and
safety-netting. Deterministic: the same record always gives the same decision.

Each rule's test is three-valued: true, false, or unknown when a fact the protocol says is
relevant has not been established yet. The level is the highest level of the rules that hold.
Rules that could still raise the level drive the next questions (most urgent first, fewest
unknowns first, at most two questions per turn, at most ``MAX_ROUNDS`` rounds). While questions
are open the level is never ``self_care``; when the conversation has to decide, a rule that is
still undecided counts one level lower (never below routine), or at its own level when the rule
says ``assume``. An emergency is never delayed by a question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.triage.lexicon import LEVELS, RANK, VALUE_FACTS, Condition, Lexicon, Rule, lexicon
from tools.triage.unexplained import near_signs, unexplained_reason

MAX_ROUNDS = 4
MAX_TOPICS_PER_QUESTION = 3
MAX_QUESTIONS = 2
MAX_ITEMS_PER_QUESTION = 4
# Questions about the person rather than a symptom: asked on their own, in their own words.
RISK_TOPICS = frozenset(
    {"pregnancy", "medicines", "immunity", "conditions", "travel", "surgery", "age"}
)
VALUE_LABELS = {
    "age": "the age of the person who is ill",
    "duration": "how long it has been going on",
    "severity": "how bad the pain is",
    "temperature": "the temperature",
}
Truth = bool | None  # None: unknown
OPEN_TOPIC = "describe"  # the open question, asked when nothing specific was recognised


@dataclass
class Decision:
    level: str
    provisional: bool
    reasons: list[str]
    missing: list[str]
    next_questions: list[dict[str, Any]]
    safety: dict[str, list[str]]  # {"emergency": [...], "urgent": [...]} signs to act on
    review: str | None
    rules: list[str]
    complaints: list[dict[str, Any]]
    red_flags: dict[str, str]
    red_flag_names: list[str] = field(default_factory=list)


class _View:
    """Three-valued reading of an intake record."""

    def __init__(self, intake: dict[str, Any], lex: Lexicon, relevant: list[str]) -> None:
        self.lex = lex
        self.facts: dict[str, Any] = intake.get("facts", {})
        self.values: dict[str, Any] = intake.get("values", {})
        self.subject: dict[str, Any] = intake.get("subject", {})
        self.asked: dict[str, Any] = intake.get("asked", {})
        self.relevant = set(relevant)
        self.forced: dict[str, bool] = {}
        self.suppressed: set[str] = set()

    def concept(self, cid: str) -> Truth:
        if cid in self.forced:
            return self.forced[cid]
        if cid in self.suppressed:
            return False
        concept = self.lex.concepts[cid]
        if not self._applies(concept.applies):
            return False
        status = self.facts.get(cid, {}).get("status")
        if status in ("present", "possible"):
            return True
        if status == "absent":
            return False
        if status == "unsure":
            return None
        if cid in self.relevant and concept.topic is not None:
            return None  # relevant and never asked (an asked concept always gets a status)
        return False

    def _applies(self, applies: dict[str, Any]) -> bool:
        sex = applies.get("sex")
        if sex and self.subject.get("sex") and self.subject["sex"] != sex:
            return False
        bounds = applies.get("age")
        age = self.subject.get("age")
        return not (bounds and age and (age[1] < bounds[0] or age[0] > bounds[1]))

    def value(self, name: str, rule: Rule) -> Any:
        if name == "age":
            return self.subject.get("age")
        if name == "duration":
            by = self.values.get("duration_by", {})
            for cid in rule.when.all:
                if cid in by:
                    return by[cid]
            return self.values.get("duration")
        return self.values.get(name)

    def askable_value(self, name: str) -> bool:
        return name in self.relevant

    def unknown_value(self, name: str) -> Truth:
        return None if self.askable_value(name) else False


def _range_test(rng: list[float] | None, lo: float | None, hi: float | None) -> Truth:
    """Whether the range lies within [lo, hi): True, False, or None (straddles / unknown)."""
    if rng is None:
        return None
    a, b = rng
    if lo is not None:
        if b < lo:
            return False
        if a < lo:
            return None
    if hi is not None:
        if a >= hi:
            return False
        if b >= hi:
            return None
    return True


def _and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return None


def _or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None


def evaluate(rule: Rule, view: _View) -> tuple[Truth, list[str]]:
    """(truth, the unknown items that keep it undecided)."""
    cond: Condition = rule.when
    parts: list[Truth] = []
    unknown: list[str] = []
    for cid in cond.all:
        t = view.concept(cid)
        parts.append(t)
        if t is None:
            unknown.append(cid)
    if cond.any:
        ts = [view.concept(c) for c in cond.any]
        t_any = _or(ts)
        parts.append(t_any)
        if t_any is None:
            unknown.extend(c for c, t in zip(cond.any, ts, strict=True) if t is None)
    for cid in cond.none:
        t = view.concept(cid)
        parts.append(None if t is None else not t)
        if t is None:
            unknown.append(cid)
    tests: list[tuple[str, float | None, float | None]] = []
    if cond.age_lt is not None or cond.age_gte is not None:
        tests.append(("age", cond.age_gte, cond.age_lt))
    if cond.duration_lt is not None or cond.duration_gte is not None:
        tests.append(("duration", cond.duration_gte, cond.duration_lt))
    for name, lo, hi in tests:
        rng = view.value(name, rule)
        t = _range_test(rng, lo, hi)
        if t is None and rng is None:
            t = view.unknown_value(name)
            if t is False and name == "duration" and lo is None:
                t = True  # an unknown onset counts as recent: acute rules are the safer reading
        elif t is None and not view.askable_value(name):
            t = None if name == "age" else False
        parts.append(t)
        if t is None:
            unknown.append(name)
    for name, threshold in (("severity", cond.severity_gte), ("temperature", cond.temperature_gte)):
        if threshold is None:
            continue
        v = view.value(name, rule)
        t = (v >= threshold) if v is not None else view.unknown_value(name)
        parts.append(t)
        if t is None:
            unknown.append(name)
    if cond.age_group:
        parts.append(_age_group(view.subject.get("age"), cond.age_group))
    if cond.sex is not None:
        sex = view.subject.get("sex")
        parts.append(sex == cond.sex if sex else False)
    if cond.subject is not None:
        parts.append(view.subject.get("who") == cond.subject)
    return _and(parts), unknown


def _age_group(age: list[float] | None, groups: tuple[str, ...]) -> Truth:
    if age is None:
        return None
    bounds = {"infant": (0, 1), "child": (1, 16), "adult": (16, 65), "older": (65, 200)}
    hits = [_range_test(age, *bounds[g]) for g in groups]
    return _or(hits)


def _below(level: str) -> str:
    return LEVELS[max(RANK["routine"], RANK[level] - 1)]


def present_concepts(intake: dict[str, Any], lex: Lexicon) -> list[str]:
    facts = intake.get("facts", {})
    found = [
        c
        for c, f in sorted(facts.items(), key=lambda kv: kv[1].get("turn", 0))
        if c in lex.concepts
        and f.get("status") in ("present", "possible")
        and lex.concepts[c].kind in ("complaint", "sign")
    ]
    specific = [c for c in found if c not in lex.generic]
    return specific if specific else found


def relevant_items(intake: dict[str, Any], lex: Lexicon, present: list[str]) -> list[str]:
    """What to check, most important first: the complaints' protocols taken in turn (each
    complaint's first item, then each one's second, ...), then the general items."""
    complaints = [c for c in present if c in lex.protocols]
    if not complaints and present:  # warning signs alone: the catch-all complaint they came with
        facts = intake.get("facts", {})
        generic = [
            c
            for c in lex.generic
            if c in lex.protocols and facts.get(c, {}).get("status") in ("present", "possible")
        ]
        complaints = generic or ["unwell_general"]
    lists = [lex.protocols[c].ask for c in complaints]
    order: list[str] = []
    for i in range(max((len(a) for a in lists), default=0)):
        for ask in lists:
            if i < len(ask) and ask[i] not in order:
                order.append(ask[i])
    for item in [*near_signs(intake, lex), *lex.general_ask]:
        if item not in order:
            order.append(item)
    return order


def decide(
    intake: dict[str, Any],
    *,
    red_flags: list[str] | None = None,
    lex: Lexicon | None = None,
    allow_questions: bool = True,
) -> Decision | None:
    """The level for this record, or None when it holds no symptom at all."""
    lex = lex or lexicon()
    present = present_concepts(intake, lex)
    flags = list(red_flags or [])
    if not present and not flags:
        return None
    relevant = relevant_items(intake, lex, present)
    view = _View(intake, lex, relevant)
    view.suppressed = {c for c in lex.generic if c not in present}
    fired: list[Rule] = []
    possible: list[tuple[Rule, list[str]]] = []
    for rule in lex.rules:
        truth, unknown = evaluate(rule, view)
        if truth is True:
            fired.append(rule)
        elif truth is None:
            possible.append((rule, unknown))
    level = max((r.level for r in fired), key=RANK.__getitem__, default="routine")
    reasons = _reasons(fired, level)
    if flags:
        level = "emergency"
        reasons = [*flags, *[r for r in reasons if r not in flags]]
    complaints = [
        {
            "id": c,
            "name": lex.concepts[c].name,
            "hpo": lex.concepts[c].hpo,
            "status": intake["facts"][c]["status"],
        }
        for c in present
    ]
    red = _red_flag_status(view, relevant, lex)
    if level == "emergency":
        return Decision(
            "emergency",
            False,
            reasons[:4],
            [],
            [],
            {},
            None,
            [r.id for r in fired],
            complaints,
            red,
            flags,
        )
    raising = [(r, u) for r, u in possible if RANK[r.level] > RANK[level]]
    # Only warning signs (rules at urgent or emergency with an unknown sign, or marked `assume`)
    # hold the level up while unknown; a routine-level rule ("a cough for more than 3 weeks") or
    # an unknown duration alone is asked about but not assumed.
    warning = [
        (r, u)
        for r, u in raising
        if RANK[r.level] >= RANK["urgent"]
        and (r.assume or any(item not in VALUE_FACTS for item in u))
    ]
    can_ask = allow_questions and intake.get("rounds", 0) < MAX_ROUNDS
    questions = _questions(raising, view, lex, intake, present) if can_ask else []
    # nothing specific recognised (only a catch-all complaint): ask the open question first
    generic_only = all(c in lex.generic for c in present)
    if (
        generic_only
        and can_ask
        and OPEN_TOPIC in lex.topics
        and OPEN_TOPIC not in intake.get("asked", {})
    ):
        questions = [_open_question(lex), *questions][:MAX_QUESTIONS]
    missing = _missing(raising, lex)
    provisional = bool(questions)
    final_level = level
    floor_reasons: list[str] = []
    if provisional:
        # while asking: never home care with a warning sign unknown; and when nothing specific
        # was recognised, at least "today" until the warning signs are ruled out
        floor = "urgent" if generic_only else "routine"
        if warning and RANK[final_level] < RANK[floor]:
            final_level = floor
            if generic_only:
                floor_reasons = [
                    r.reason for r, _u in warning if r.level in ("urgent", "emergency")
                ]
    else:
        for rule, _unknown in warning:
            floor = rule.level if rule.assume else _below(rule.level)
            if RANK[floor] > RANK[final_level]:
                final_level = floor
        if RANK[final_level] > RANK[level]:
            floor_reasons = [
                r.reason
                for r, _u in warning
                if (r.level if r.assume else _below(r.level)) == final_level
            ]
        if generic_only and RANK[final_level] < RANK["routine"]:
            final_level = "routine"  # nothing recognised: never home care
    if intake.get("unexplained") and RANK[final_level] < RANK["routine"]:
        # part of the story was not understood: never home care
        final_level = "routine"
        floor_reasons = [unexplained_reason(intake)]
    safety, review = _safety_net(view, relevant, final_level, present, lex)
    all_reasons = (
        reasons
        if not floor_reasons
        else [*reasons[:2], *[f"not yet ruled out: {r}" for r in floor_reasons[:2]]]
    )
    return Decision(
        final_level,
        provisional,
        all_reasons[:5],
        missing,
        questions,
        safety,
        review,
        [r.id for r in fired],
        complaints,
        red,
        flags,
    )


def _open_question(lex: Lexicon) -> dict[str, Any]:
    return {
        "id": OPEN_TOPIC,
        "text": lex.topics[OPEN_TOPIC].question,
        "topics": [OPEN_TOPIC],
        "concepts": [],
        "describe": True,
    }


def _reasons(fired: list[Rule], level: str) -> list[str]:
    ordered = sorted(fired, key=lambda r: -RANK[r.level])
    out: list[str] = []
    for r in ordered:
        if RANK[r.level] < RANK[level] and len(out) >= 1:
            break
        if r.reason not in out:
            out.append(r.reason)
    return out


def _missing(raising: list[tuple[Rule, list[str]]], lex: Lexicon) -> list[str]:
    out: list[str] = []
    for _rule, unknown in sorted(raising, key=lambda ru: -RANK[ru[0].level]):
        for item in unknown:
            name = VALUE_LABELS[item] if item in VALUE_FACTS else lex.concepts[item].name
            if name not in out:
                out.append(name)
    return out[:8]


def _questions(
    raising: list[tuple[Rule, list[str]]],
    view: _View,
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


def _safety_net(
    view: _View, relevant: list[str], level: str, present: list[str], lex: Lexicon
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


def _red_flag_status(view: _View, relevant: list[str], lex: Lexicon) -> dict[str, str]:
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
