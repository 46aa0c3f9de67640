"""One fact, one reason: a red flag and a rule (or two rules) that state the same fact in other
words give one reason; reasons that add evidence stay."""

from __future__ import annotations

import pytest

from assistant.policy.safety import red_flag_rules
from tools.triage import assess
from tools.triage.lexicon import lexicon
from tools.triage.same_fact import FLAG, groups, one_per_fact


def test_every_group_names_known_rules_and_red_flags_once() -> None:
    rules = {r.id for r in lexicon().rules}
    flags = {f.id for f in red_flag_rules()}
    seen: set[str] = set()
    for group in groups(lexicon()):
        assert len(group) >= 2, group
        for key in group:
            known = flags if key.startswith(FLAG) else rules
            assert key.removeprefix(FLAG) in known, key
            assert key not in seen, f"{key} is in two groups"
            seen.add(key)


def test_only_the_first_reason_of_a_group_is_given() -> None:
    keyed = [
        ("flag:suicidal", "thoughts of suicide or self-harm"),
        ("self_harm", "thoughts of self-harm or suicide"),
        ("confusion", "new confusion"),
        ("other", "new confusion"),  # the same words twice: once
    ]
    assert one_per_fact(keyed, lexicon()) == ["thoughts of suicide or self-harm", "new confusion"]


def test_a_key_outside_every_group_is_kept() -> None:
    assert one_per_fact([("x", "a"), ("y", "b")], lexicon()) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "given", "dropped"),
    [
        (
            "i have been cutting myself and i want to end my life",
            "thoughts of suicide or self-harm",
            "thoughts of self-harm or suicide",
        ),
        (
            "my 6 week old baby has a temperature of 38.5",
            "fever in a young infant",
            "a temperature of 38C or more in a baby under 3 months",
        ),
    ],
)
def test_a_red_flag_and_its_rule_give_one_reason(text: str, given: str, dropped: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert given in r["reasons"]
    assert dropped not in r["reasons"]


def test_evidence_beside_a_red_flag_stays() -> None:
    r = assess("my son has a high temperature, a stiff neck and the light hurts his eyes")
    assert r["level"] == "emergency"
    assert len(r["reasons"]) >= 2
