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
        began = time.process_time()
        for _ in rule.pattern.finditer(text):
            pass
        slowest = max(slowest, time.process_time() - began)
    assert slowest < 1.0, (rule.kind, rule.pattern.pattern[:80], slowest)


def test_all_rules_in_turn_read_a_50_kb_message_in_bounded_time() -> None:
    """The rules as the detector applies them, each on the text the ones before left."""
    text = ("Mr Aa-Bb, DOB 1.2.3, lives at 1 Aa Rd. a.b@c " * 1200)[:SIZE]
    began = time.process_time()
    phi.rule_spans(text, phi.project_rules())
    assert time.process_time() - began < 10.0


def test_a_rule_runs_only_on_text_holding_what_it_requires() -> None:
    rules = phi.compile_rules(
        [{"kind": "NAME", "pattern": r"\b[A-Z][a-z]+(?= \(surname)", "requires": r"\(surname"}]
    )
    assert rules[0].requires is not None
    assert [s.kind for s in phi.rule_spans("Sandeep (surname Gill)", rules)] == ["NAME"]
    assert phi.rule_spans("Sandeep (family Gill)", rules) == []


def test_every_rare_rule_finds_what_its_own_requirement_allows() -> None:
    """A rule's ``requires`` never hides a match of its pattern: on texts written to match each
    rule that has one, the requirement holds wherever the pattern matches."""
    samples = [
        "book via sunrisemc.example.ca/patients/HN4471 please",
        "Seen 30.XI.2026 w poradni",
        "on Boxing Day 2025 she fell",
        "患者：王秀英，女",
        "Ms 佐藤花子 attended",
        "Mdm Chan Siu Fong (陳小芳), 93",
        "Sandeep (surname Gill), seen",
        "forename: Aroha, surname: Ngata",
        "No. 14, 3rd Cross, Jayanagar 4th Block",
        "[ADDRESS], Auckland 1024",
        "Bed 12: Koa Kealoha, cellulitis",
    ]
    for rule in phi.project_rules():
        if rule.requires is None:
            continue
        for text in samples:
            if rule.pattern.search(text):
                assert rule.requires.search(text), (rule.pattern.pattern[:60], text)
