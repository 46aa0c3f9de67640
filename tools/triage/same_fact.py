"""One fact, one reason: the groups of reasons that say the same thing in other words (a red flag
and a triage rule, or two rules), kept as data in ``data/same_fact.yaml``. Only the first reason of
a group that applies is given; levels and rules are untouched."""

from __future__ import annotations

from functools import lru_cache

import yaml

from assistant.policy.safety import red_flag_rules
from tools.triage.lexicon import Lexicon, data_dir

FLAG = "flag:"
"""How a red flag's id is written in the groups (rules are written by their bare id)."""


def groups(lex: Lexicon) -> tuple[tuple[str, ...], ...]:
    """The groups of paraphrases, each in order of preference (read with ``lex``'s data, once)."""
    if "same_fact" not in lex.cache:
        raw = yaml.safe_load((data_dir() / "same_fact.yaml").read_text(encoding="utf-8"))
        lex.cache["same_fact"] = tuple(tuple(str(k) for k in g) for g in raw["groups"])
    found: tuple[tuple[str, ...], ...] = lex.cache["same_fact"]
    return found


def _group_of(lex: Lexicon) -> dict[str, int]:
    if "same_fact_group" not in lex.cache:
        lex.cache["same_fact_group"] = {key: i for i, g in enumerate(groups(lex)) for key in g}
    found: dict[str, int] = lex.cache["same_fact_group"]
    return found


@lru_cache(maxsize=1)
def _flag_ids() -> dict[str, str]:
    return {f.name: f.id for f in red_flag_rules()}


def flag_key(name: str) -> str:
    """The key of a red flag recorded by its name (an unknown name keys itself)."""
    return f"{FLAG}{_flag_ids().get(name, name)}"


def one_per_fact(keyed: list[tuple[str, str]], lex: Lexicon) -> list[str]:
    """The reasons of ``keyed`` ((key, reason) pairs, in order: ``flag:<id>`` or a rule id), without
    a reason whose group already gave one, nor one repeated word for word."""
    group_of = _group_of(lex)
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
