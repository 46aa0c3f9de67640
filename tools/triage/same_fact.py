"""One fact, one reason: the groups of reasons that say the same thing in other words (a red flag
and a triage rule, or two rules), kept as data in ``data/same_fact.yaml``. Only the first reason of
a group that applies is given; levels and rules are untouched."""

from __future__ import annotations

from functools import lru_cache

import yaml

from tools.triage.lexicon import data_dir

FLAG = "flag:"
"""How a red flag's id is written in the groups (rules are written by their bare id)."""


@lru_cache(maxsize=1)
def groups() -> tuple[tuple[str, ...], ...]:
    """The groups of paraphrases, each in order of preference."""
    raw = yaml.safe_load((data_dir() / "same_fact.yaml").read_text(encoding="utf-8"))
    return tuple(tuple(str(k) for k in g) for g in raw["groups"])


def _group_of() -> dict[str, int]:
    return {key: i for i, g in enumerate(groups()) for key in g}


def one_per_fact(keyed: list[tuple[str, str]]) -> list[str]:
    """The reasons of ``keyed`` ((key, reason) pairs, in order: ``flag:<id>`` or a rule id), without
    a reason whose group already gave one, nor one repeated word for word."""
    group_of = _group_of()
    seen: set[int] = set()
    out: list[str] = []
    for key, reason in keyed:
        group = group_of.get(key)
        if (group is not None and group in seen) or reason in out:
            continue
        if group is not None:
            seen.add(group)
        out.append(reason)
    return out
