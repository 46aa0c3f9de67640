"""Three-valued reading of an intake record: whether each rule of the triage data holds (true),
does not hold (false), or is still undecided (unknown: a fact the complaint's protocol says is
relevant has not been established yet), and which facts are relevant to check, most important
first."""

from __future__ import annotations

from typing import Any

from tools.triage.lexicon import NOT_RECOGNISED, Condition, Lexicon, Rule
from tools.triage.unexplained import near_signs

Truth = bool | None  # None: unknown


class View:
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


def _combine(values: list[Truth], decisive: bool) -> Truth:
    """Three-valued AND (``decisive`` False) or OR (``decisive`` True): one decisive value
    decides; all of the other value give that value; anything else is unknown."""
    if any(v is decisive for v in values):
        return decisive
    if all(v is (not decisive) for v in values):
        return not decisive
    return None


def _and(values: list[Truth]) -> Truth:
    return _combine(values, False)


def _or(values: list[Truth]) -> Truth:
    return _combine(values, True)


def evaluate(rule: Rule, view: View) -> tuple[Truth, list[str]]:
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
    facts = intake.get("facts", {})
    # a catch-all complaint the person said in their own words ("not feeling myself", "feel
    # rough") keeps its general warning signs relevant beside a named complaint: a vague
    # "unwell" story may be an atypical heart attack (NICE CG95: older people, diabetes)
    said = [
        c
        for c in lex.said_generic
        if c in lex.protocols
        and c not in complaints
        and facts.get(c, {}).get("status") in ("present", "possible")
        and facts.get(c, {}).get("said") not in ("", None, NOT_RECOGNISED)
    ]
    lists = [lex.protocols[c].ask for c in [*complaints, *said]]
    order: list[str] = []
    for i in range(max((len(a) for a in lists), default=0)):
        for ask in lists:
            if i < len(ask) and ask[i] not in order:
                order.append(ask[i])
    age = (intake.get("subject") or {}).get("age")
    infant = lex.infant_ask if age and age[-1] < 1 else ()
    # a warning sign told on its own (not a complaint with a protocol): the signs that would make
    # it an emergency are asked ("black, tarry poo" -> fainting or dizziness: NICE CG141)
    signs = [c for c in present if c not in lex.protocols]
    with_it = [
        x
        for c in signs
        for r in lex.rules
        if r.level == "emergency" and c in r.when.all
        for x in r.when.any
        if x in lex.concepts and lex.concepts[x].topic is not None
    ]
    for item in [*near_signs(intake, lex), *lex.general_ask, *infant, *with_it]:
        if item not in order:
            order.append(item)
    return order


def child_age_unknown(intake: dict[str, Any]) -> bool:
    """A baby or child whose age has not been given ("my baby", "my little one"): the age decides
    much of a child's triage (NICE NG143: under 3 months, 3 to 6 months, ...), so it is asked
    first, and a rule it could make hold counts as a warning sign until it is known."""
    subject = intake.get("subject") or {}
    age = subject.get("age")
    return age is not None and len(age) == 2 and not subject.get("age_stated") and age[1] <= 16
