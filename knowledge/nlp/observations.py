"""Report-level observations from entities: the 14 ChestX-ray14 findings plus No Finding, each
``positive`` / ``negative`` / ``uncertain`` / ``absent``, with the mentions behind it.

    obs = observations(entities(doc))
    # [{"finding": "Effusion", "status": "negative", "evidence": [{"text": "effusion", ...}]}, ...]

The mapping (which lexicon concepts count for which finding, what does not count, which report
sections hold observations, which hedges read as probable) is data:
``knowledge/data/nlp/observations.yaml``, with its sources cited there. Mentions aggregate per
finding as NegBio's aggregator does: any positive mention makes the finding positive; else any
uncertain one makes it uncertain; else a negated one makes it negative; no mention: absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.nlp.lexicon import DATA_DIR

FINDINGS: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)
NO_FINDING = "No Finding"
LABELS: tuple[str, ...] = (*FINDINGS, NO_FINDING)
STATUSES: tuple[str, ...] = ("positive", "negative", "uncertain", "absent")
RULES_FILE = "observations.yaml"
MAX_EVIDENCE = 5  # mentions kept per finding (the strongest first)


@dataclass(frozen=True)
class ObservationRules:
    """The mapping, validated: concept -> findings, excluded mention words, sections, hedges."""

    by_concept: dict[str, tuple[str, ...]]
    excluded: dict[str, tuple[re.Pattern[str], ...]]
    sections: frozenset[str | None]
    probable_hedges: frozenset[str]
    no_finding_ignores: frozenset[str]


def _words(texts: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rf"(?<![\w-]){re.escape(t.lower())}(?![\w-])") for t in texts)


def parse_rules(data: dict[str, Any], where: str = RULES_FILE) -> ObservationRules:
    """Validate the YAML's content; a wrong key or finding name is one clear error."""
    known = {"findings", "observation_sections", "probable_hedges", "no_finding_ignores"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}: valid: {sorted(known)}")
    findings = data.get("findings") or {}
    bad = set(findings) - set(FINDINGS)
    missing = set(FINDINGS) - set(findings)
    if bad or missing:
        raise ValueError(
            f"{where}: findings must be exactly {', '.join(FINDINGS)} (unknown {sorted(bad)}, missing {sorted(missing)})"
        )
    by_concept: dict[str, list[str]] = {}
    excluded: dict[str, tuple[re.Pattern[str], ...]] = {}
    for name, spec in findings.items():
        extra = set(spec) - {"concepts", "not", "why"}
        if extra or not spec.get("concepts") or not spec.get("why"):
            raise ValueError(
                f"{where}: {name} needs concepts and why (and optionally not); unknown keys {sorted(extra)}"
            )
        for concept in spec["concepts"]:
            by_concept.setdefault(str(concept).lower(), []).append(name)
        excluded[name] = _words(spec.get("not") or [])
    sections = frozenset(
        None if s in (None, "null") else str(s) for s in data.get("observation_sections") or []
    )
    return ObservationRules(
        by_concept={k: tuple(v) for k, v in by_concept.items()},
        excluded=excluded,
        sections=sections,
        probable_hedges=frozenset(str(h).lower() for h in data.get("probable_hedges") or []),
        no_finding_ignores=frozenset(str(c).lower() for c in data.get("no_finding_ignores") or []),
    )


@lru_cache(maxsize=4)
def load_rules(path: Path = DATA_DIR / RULES_FILE) -> ObservationRules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path.name)


def mention_status(ent: dict[str, Any], rules: ObservationRules) -> str | None:
    """positive / negative / uncertain for one entity; None when it is not an observation of
    this study (family, historical, or in a section that is not an observation section)."""
    if ent.get("family") or ent.get("historical"):
        return None
    if ent.get("section") not in rules.sections:
        return None
    if ent.get("negated"):
        return "negative"
    if ent.get("uncertain"):
        hedges = {str(h).lower() for h in ent.get("hedges") or []}
        probable = bool(hedges) and hedges <= rules.probable_hedges
        return "positive" if probable else "uncertain"
    return "positive"


_RANK = {"positive": 3, "uncertain": 2, "negative": 1}


def _aggregate(statuses: Iterable[str]) -> str:
    best = max((_RANK[s] for s in statuses), default=0)
    return next((s for s, r in _RANK.items() if r == best), "absent")


def findings_of(ent: dict[str, Any], rules: ObservationRules) -> tuple[str, ...]:
    """The findings an entity's concept counts for, less those whose `not` words it contains."""
    if ent.get("label") != "FINDING":
        return ()
    names = rules.by_concept.get(str(ent.get("normalized") or "").lower(), ())
    text = str(ent.get("text") or "").lower()
    return tuple(n for n in names if not any(p.search(text) for p in rules.excluded[n]))


def observations(
    ents: list[dict[str, Any]], rules: ObservationRules | None = None
) -> list[dict[str, Any]]:
    """One observation per label (14 findings, then No Finding), in :data:`LABELS` order."""
    rules = rules or load_rules()
    mentions: dict[str, list[tuple[str, dict[str, Any]]]] = {n: [] for n in FINDINGS}
    abnormal = False
    for ent in ents:
        if ent.get("label") != "FINDING":
            continue
        status = mention_status(ent, rules)
        if status is None:
            continue
        names = findings_of(ent, rules)
        for name in names:
            mentions[name].append((status, ent))
        ignored = str(ent.get("normalized") or "").lower() in rules.no_finding_ignores
        if status in ("positive", "uncertain") and not ignored:
            abnormal = True
    out: list[dict[str, Any]] = []
    for name in FINDINGS:
        found = sorted(mentions[name], key=lambda m: -_RANK[m[0]])
        out.append(
            {
                "finding": name,
                "status": _aggregate(s for s, _ in found),
                "evidence": [_evidence(s, e) for s, e in found[:MAX_EVIDENCE]],
            }
        )
    out.append(
        {"finding": NO_FINDING, "status": "absent" if abnormal else "positive", "evidence": []}
    )
    return out


def _evidence(status: str, ent: dict[str, Any]) -> dict[str, Any]:
    ev = {k: ent.get(k) for k in ("text", "start", "end", "section")}
    ev["status"] = status
    if ent.get("hedges"):
        ev["hedges"] = list(ent["hedges"])
    return ev


def status_map(obs: list[dict[str, Any]]) -> dict[str, str]:
    return {o["finding"]: o["status"] for o in obs}


CHEXPERT_VALUES = {"positive": "1.0", "negative": "0.0", "uncertain": "-1.0", "absent": ""}


def chexpert_row(obs: list[dict[str, Any]]) -> list[str]:
    """No Finding then the 14 findings, in the CheXpert labeler's CSV convention: 1.0 positive,
    0.0 negative, -1.0 uncertain, blank when not mentioned (No Finding: 1.0 or blank)."""
    status = status_map(obs)
    return [CHEXPERT_VALUES[status.get(name, "absent")] for name in (NO_FINDING, *FINDINGS)]


def observations_line(obs: list[dict[str, Any]]) -> str:
    """One line for people: the mentioned findings and their status (absent ones left out)."""
    from assistant.policy import messages

    said = [
        f"{o['finding']} {o['status']}"
        for o in obs
        if o["finding"] != NO_FINDING and o["status"] != "absent"
    ]
    if any(o["finding"] == NO_FINDING and o["status"] == "positive" for o in obs):
        said.append(NO_FINDING)
    return (
        messages.OBSERVATIONS.format(items="; ".join(said)) if said else messages.OBSERVATIONS_NONE
    )
