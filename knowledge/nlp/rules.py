"""ConText and section rules kept as JSON data, validated on load.

spaCy's token ``Matcher`` is the slowest part of medspaCy's ConText (``IN`` sets and optional
tokens): rules whose patterns are only ``LOWER``/``TEXT`` values, ``IN`` lists and ``"OP": "?"``
are expanded into equivalent literal phrases, which ConText matches with a ``PhraseMatcher``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

CONTEXT_CATEGORIES = {
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HYPOTHETICAL",
    "HISTORICAL",
    "FAMILY",
}
CONTEXT_DIRECTIONS = {"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"}
CONTEXT_KEYS = {
    "category",
    "literal",
    "pattern",
    "direction",
    "max_scope",
    "allowed_types",
    "excluded_types",
    "terminated_by",
    "metadata",
}
MAX_EXPANSIONS = 400


def read_rules(path: Path, key: str) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if key not in data:
        raise ValueError(f"{path.name}: missing top-level key {key!r}")
    return list(data[key])


def validate_context_rule(rule: dict[str, Any], where: str = "") -> None:
    unknown = set(rule) - CONTEXT_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown ConText rule key(s) {sorted(unknown)}: valid: {', '.join(sorted(CONTEXT_KEYS))}"
        )
    if rule.get("category") not in CONTEXT_CATEGORIES:
        raise ValueError(
            f"{where}: category must be one of {sorted(CONTEXT_CATEGORIES)}, got {rule.get('category')!r}"
        )
    if rule.get("direction") not in CONTEXT_DIRECTIONS:
        raise ValueError(
            f"{where}: direction must be one of {sorted(CONTEXT_DIRECTIONS)}, got {rule.get('direction')!r}"
        )
    if not rule.get("literal"):
        raise ValueError(f"{where}: a ConText rule needs a literal")


def expand_pattern(pattern: list[dict[str, Any]]) -> list[str] | None:
    """All literal phrases a simple token pattern matches, or None when it is not simple."""
    options: list[list[str]] = []
    for spec in pattern:
        extra = set(spec) - {"LOWER", "TEXT", "OP"}
        if extra or spec.get("OP") not in (None, "?"):
            return None
        value = spec.get("LOWER", spec.get("TEXT"))
        if isinstance(value, str):
            words = [value.lower()]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            words = [str(v).lower() for v in value["IN"]]
        else:
            return None
        if spec.get("OP") == "?":
            words = [*words, ""]
        options.append(words)
    total = 1
    for o in options:
        total *= len(o)
    if total > MAX_EXPANSIONS:
        return None
    phrases = {" ".join(w for w in combo if w) for combo in itertools.product(*options)}
    return sorted(p for p in phrases if p)


def context_rules(path: Path, *, expand: bool = True) -> list[Any]:
    """medspaCy ``ConTextRule`` objects from a JSON file (validated, simple patterns expanded)."""
    from medspacy.context import ConTextRule

    out: list[Any] = []
    for i, rule in enumerate(read_rules(path, "context_rules")):
        validate_context_rule(rule, f"{path.name} rule {i}")
        pattern = rule.get("pattern")
        kwargs = {
            k: rule[k]
            for k in ("max_scope", "allowed_types", "excluded_types", "terminated_by")
            if rule.get(k) is not None
        }
        phrases = expand_pattern(pattern) if (pattern and expand) else None
        if pattern and phrases is None:
            out.append(
                ConTextRule(
                    rule["literal"],
                    rule["category"],
                    pattern=pattern,
                    direction=rule["direction"],
                    **kwargs,
                )
            )
        else:
            for phrase in phrases or [rule["literal"]]:
                out.append(
                    ConTextRule(phrase, rule["category"], direction=rule["direction"], **kwargs)
                )
    return out


def section_rules(path: Path) -> list[Any]:
    """medspaCy ``SectionRule`` objects from a JSON file (``literal`` + ``category``)."""
    from medspacy.section_detection import SectionRule

    out = []
    for i, rule in enumerate(read_rules(path, "section_rules")):
        unknown = set(rule) - {"literal", "category", "pattern", "parents", "parent_required"}
        if unknown or not rule.get("literal") or not rule.get("category"):
            raise ValueError(
                f"{path.name} rule {i}: needs literal and category (unknown keys: {sorted(unknown)})"
            )
        out.append(SectionRule(rule["literal"], rule["category"], pattern=rule.get("pattern")))
    return out
