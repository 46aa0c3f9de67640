"""Every rule of ``assistant/data/phi_rules.yaml`` reads 50 kB of adversarial text in bounded
time: runs of its own literal words (and their prefixes) and dotted, hyphenated, spaced and
@-joined runs. A rule whose every start position rescans the rest of a run is quadratic (the
e-mail rule took about 6 s, an address rule and an age rule over 15 s on such runs); the rules
now start only where a run starts, bound their look-aheads or take a word whole (atomic groups)."""

from __future__ import annotations

import re
import time

import pytest

from assistant.policy import phi

SIZE = 50_000
_GENERIC = ("a.", "Aa-", "A1-", "1-", "Aa ", "a@", "aa.aa@", "[NAME] ")


def _literals(pattern: str) -> list[str]:
    """Literal words the pattern spells out ("birthday", "date of birth", "lives"), first three."""
    found: list[str] = []
    for word in re.findall(r"(?<![\\(?])[A-Za-z][a-z]{2,}(?: [a-z]{2,})*", pattern):
        if word not in found:
            found.append(word)
    return found[:3]


def _runs(rule: phi.Rule) -> list[str]:
    pieces = list(_GENERIC)
    for word in _literals(rule.pattern.pattern):
        half = word[: max(2, len(word) // 2)]
        pieces += [word + " ", word.capitalize() + "-", word + ". ", half]
    return [(p * (SIZE // len(p) + 1))[:SIZE] + "!" for p in pieces]


@pytest.mark.parametrize("index", range(len(phi.project_rules())))
def test_every_rule_reads_50_kb_of_adversarial_text_in_bounded_time(index: int) -> None:
    rule = phi.project_rules()[index]
    slowest = 0.0
    for text in _runs(rule):
        began = time.perf_counter()
        for _ in rule.pattern.finditer(text):
            pass
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < 1.0, (rule.kind, rule.pattern.pattern[:80], slowest)


def test_all_rules_in_turn_read_a_50_kb_message_in_bounded_time() -> None:
    """The rules as the detector applies them, each on the text the ones before left."""
    text = ("Mr Aa-Bb, DOB 1.2.3, lives at 1 Aa Rd. a.b@c " * 1200)[:SIZE]
    began = time.perf_counter()
    phi.rule_spans(text, phi.project_rules())
    assert time.perf_counter() - began < 10.0
