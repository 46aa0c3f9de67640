"""Home care from minor-illness evidence (``engine.home_care_gate``), a learned raise that stands
for the episode, questions a message did not address, and the story the learned net reads. Fake
embedders only (the real one is exercised in test_classifier's slow test)."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.fakes.triage import WordEmbedder, adult_intake, fake_model
from tools.triage import assess
from tools.triage.classifier import Model
from tools.triage.engine import RANK, decide
from tools.triage.lexicon import lexicon

LEX = lexicon()
LEVELS = ("emergency", "urgent", "routine", "self_care")
COMPLAINTS = sorted(c for c, k in LEX.concepts.items() if k.kind == "complaint")


def CalmEmbedder() -> WordEmbedder:
    """Every word is calm but "zorb" (an alarm word no rule knows)."""
    return WordEmbedder(alarm=("zorb",))


def _model(self_care: float | None, emergency: float | None = None) -> Model:
    return fake_model(
        alarm=8.0,
        calm=4.0,
        threshold=0.99,
        reason="learned today",
        emergency_threshold=emergency,
        emergency_reason="learned emergency",
        self_care_threshold=self_care,
        self_care_reason="learned home care",
        self_care_blockers=("pregnancy", "immunosuppressed"),
    )


def _settled(complaint: str) -> dict[str, object]:
    """An adult with one complaint, every relevant warning sign asked and answered no."""
    intake = adult_intake(complaint)
    for _ in range(6):
        d = decide(copy.deepcopy(intake))
        if d is None or not d.next_questions:
            break
        for q in d.next_questions:
            for topic in q["topics"]:
                intake["asked"][topic] = 1
                for c, concept in LEX.concepts.items():
                    if concept.topic == topic and c not in intake["facts"]:
                        intake["facts"][c] = {"status": "absent", "turn": 1, "said": "no"}
        intake["rounds"] = intake.get("rounds", 0) + 1
    return intake


def _catch_all_complaints() -> list[str]:
    """Complaints whose settled level is the catch-all routine (no rule at routine or above)."""
    out = []
    for c in COMPLAINTS:
        d = decide(_settled(c))
        if d is not None and d.gate.get("allowed"):
            out.append(c)
    return out


def test_the_gate_turns_a_settled_catch_all_into_home_care_with_its_reason() -> None:
    found = _catch_all_complaints()
    assert found, "some recognised complaint settles at the catch-all routine level"
    intake = _settled(found[0])
    plain = decide(copy.deepcopy(intake))
    home = decide(copy.deepcopy(intake), home_care="learned home care")
    assert plain is not None and home is not None
    assert plain.level == "routine" and home.level == "self_care"
    assert "learned home care" in home.reasons


def test_the_gate_is_closed_for_risk_groups_babies_older_people_and_long_illness() -> None:
    complaint = _catch_all_complaints()[0]
    changes = ("pregnancy", "infant", "older", "older_range", "long", "long_range", "other", "dad")
    for change in changes:
        intake = _settled(complaint)
        if change == "pregnancy":
            intake["facts"]["pregnancy"] = {"status": "present", "turn": 1, "said": ""}
        elif change == "infant":
            intake["subject"]["age"] = [0.5, 0.5]
        elif change == "older":
            intake["subject"]["age"] = [70.0, 70.0]
        elif change == "older_range":  # "in his late 60s"
            intake["subject"]["age"] = [60.0, 69.0]
        elif change == "long":
            intake["values"] = {"duration": [21.0, 21.0]}
        elif change == "long_range":  # "a week or three"
            intake["values"] = {"duration": [7.0, 21.0]}
        elif change == "other":  # "my son ...", no age given
            intake["subject"].update(who="other", relation="son", age=None)
        else:  # "my dad ...": only a relation's wide range
            intake["subject"].update(who="other", relation="dad", age=[30.0, 110.0])
        d = decide(intake, home_care="h", blockers=("pregnancy",))
        assert d is not None and d.level != "self_care", change
        assert not d.gate["allowed"]


def test_an_adult_writing_about_themselves_without_an_age_may_get_home_care() -> None:
    intake = _settled(_catch_all_complaints()[0])
    intake["subject"].update(who="self", age=[16.0, 110.0], age_stated=False)
    d = decide(intake, home_care="h", blockers=("pregnancy",))
    assert d is not None and d.level == "self_care" and d.gate["allowed"]


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complaint=st.sampled_from(COMPLAINTS), flagged=st.booleans(), settle=st.booleans())
def test_home_care_only_lowers_a_settled_catch_all(
    complaint: str, flagged: bool, settle: bool
) -> None:
    """It never lowers a rule's routine or higher level, a red flag, or a decision with a
    question still open or a warning sign unknown."""
    intake = _settled(complaint) if settle else adult_intake(complaint)
    flags = ["x"] if flagged else None
    rules = decide(copy.deepcopy(intake), red_flags=flags)
    home = decide(copy.deepcopy(intake), red_flags=flags, home_care="h")
    assert rules is not None and home is not None
    if home.level != rules.level:
        assert home.level == "self_care" and rules.level == "routine"
        assert not flagged and not rules.next_questions and not rules.provisional
        for rule in (r for r in LEX.rules if r.id in rules.rules):  # only catch-all rules held
            assert RANK[rule.level] < RANK["routine"] or set(rule.when.all) <= set(LEX.generic)


def test_assess_uses_the_gate_only_when_the_net_says_home_care() -> None:
    complaint = _catch_all_complaints()[0]
    intake = _settled(complaint)
    e = CalmEmbedder()
    said = assess("it is the same as before", intake, embedder=e, learned=_model(0.5))
    off = assess("it is the same as before", intake, embedder=e, learned=_model(None))
    assert off["level"] == "routine" and off["learned"]["home_care"] is None
    assert said["level"] == "self_care" and "learned home care" in said["reasons"]
    assert said["intake"]["home_care"]["allowed"]


def test_a_learned_emergency_stands_when_the_story_grows() -> None:
    e, m = CalmEmbedder(), _model(None, emergency=0.5)
    first = assess("zorb zorb zorb my arm hurts", embedder=e, learned=m)
    assert first["level"] == "emergency"
    calm = " ".join(["it was a quiet day and i had tea."] * 6)
    later = assess(calm, first["intake"], embedder=e, learned=m)
    assert later["learned"]["raise_to"] is None  # the diluted story alone would not raise it
    assert later["level"] == "emergency" and "learned emergency" in later["reasons"]


def test_more_of_the_story_after_an_emergency_keeps_the_episode() -> None:
    first = assess("crushing chest pain down my left arm and I'm sweating")
    assert first["level"] == "emergency" and not first["provisional"]
    more = assess("I've been sick twice and have a temperature of 38.9", first["intake"])
    assert more["intake"]["episode"] == 1 and more["level"] == "emergency"
    home = assess("I've got a runny nose, I'm 30")
    while home["next_questions"]:
        home = assess("No.", home["intake"])
    assert RANK[home["level"]] <= RANK["routine"]
    other = assess("now I have a rash on my arm", home["intake"])
    assert other["intake"]["episode"] == 2  # after home care a new complaint is a new problem


def test_a_message_that_does_not_answer_leaves_the_question_open_once() -> None:
    first = assess("I've got a sore throat")
    topics = [t for q in first["next_questions"] for t in q["topics"]]
    assert topics
    second = assess("my partner had one last week", first["intake"])
    again = [t for q in second["next_questions"] for t in q["topics"]]
    assert set(topics) & set(again), "the unanswered question is asked again"
    third = assess("my partner had one last week", second["intake"])
    statuses = {f["status"] for f in third["intake"]["facts"].values()}
    assert "unsure" in statuses  # a second non-answer counts as not sure (the safer reading)
