"""Virtual-doctor triage through the whole Assistant (fakes for the model and knowledge base):
symptom stories go to triage, answers are remembered, the level leads the reply, emergencies
are never delayed, clinician mode is unchanged unless triage is asked for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.core.config import RouterSettings, Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.core.schema import AttachmentRef, Turn
from assistant.core.state import empty_case
from assistant.graph import STANDING_TURNS
from assistant.policy import messages
from assistant.policy.messages import triage_trail
from assistant.router import IntentClassifier, Router
from assistant.service import Assistant, Attachment
from assistant.slack.render import render_messages
from tests.fakes.bots import bot_over
from tests.fakes.tools import fake_registry, patient_registry
from tools.registry import TOOL_NAMES


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(default="A general answer [1].")


@pytest.fixture
def bot(settings: Settings, llm: ScriptedLLM) -> Iterator[Assistant]:
    yield from bot_over(settings, patient_registry(), llm)


def answer_no(bot: Assistant, case: str, turn: Turn) -> Turn:
    while turn.triage is not None and turn.triage.next_questions:
        turn = bot.respond(case, "No.", mode="patient")
    return turn


def test_symptom_story_goes_to_triage_and_asks_first(bot: Assistant, llm: ScriptedLLM) -> None:
    turn = bot.respond("t1", "I've had a sore throat since Sunday", mode="patient")
    # the level comes from the rules; the model only words the self-care advice beside it
    assert [t.name for t in turn.tools] == ["triage", "search_knowledge", "generate_answer"]
    assert turn.triage is not None and turn.triage.provisional
    assert turn.triage.level == "routine"  # never self-care while a warning sign is unasked
    assert 1 <= len(turn.triage.next_questions) <= 2
    assert turn.reply.startswith(messages.TRIAGE_ASK)
    case = bot.store.load_case("t1")
    assert case is not None and case[0]["intake"]["pending"]


def test_answers_are_remembered_and_lead_to_a_cited_disposition(bot: Assistant) -> None:
    first = bot.respond("t2", "I've had a sore throat for 3 days, I'm 30", mode="patient")
    final = answer_no(bot, "t2", first)
    assert final.triage is not None and final.triage.level == "self_care"
    assert not final.triage.provisional and final.triage.reasons
    assert final.reply.startswith(messages.TRIAGE_LEVEL["self_care"])
    assert any("emergency" in line for line in final.triage.safety_net)
    assert [c.id for c in final.citations] == ["kb-sore-throat"] and "[1]" in final.reply
    assert final.reply.rstrip().endswith(messages.DISCLAIMER_PATIENT)
    trail = [t for t in triage_trail(bot.history("t2")) if t]
    assert trail[0] == "triage: routine (asking)" and trail[-1].endswith("-> self_care")


def test_an_answer_can_raise_the_level_to_emergency(bot: Assistant) -> None:
    bot.respond("t3", "my throat is really sore", mode="patient")
    turn = bot.respond("t3", "I can't swallow at all, I keep drooling", mode="patient")
    assert turn.safety.emergency and turn.triage is not None
    assert turn.triage.level == "emergency" and turn.triage.next_questions == []
    assert turn.reply.startswith("This could be an emergency")


def test_red_flag_emergency_records_triage_without_any_model(
    bot: Assistant, llm: ScriptedLLM
) -> None:
    turn = bot.respond(
        "t4", "crushing chest pain down my left arm and I'm sweating", mode="patient"
    )
    assert [t.name for t in turn.tools] == ["triage"] and llm.prompts == []
    assert turn.reply.startswith("This could be an emergency") and turn.safety.emergency
    assert turn.triage is not None and turn.triage.level == "emergency"
    assert messages.TRIAGE_LEVEL["emergency"] not in turn.reply  # said once, by the banner


def test_a_pasted_discharge_letter_is_triaged_not_extracted(bot: Assistant) -> None:
    letter = (
        "DISCHARGE SUMMARY. 72M, elective right total hip replacement 9 days ago. Discharged on "
        "enoxaparin. FINDINGS: uncomplicated. -- My dad's right calf has become swollen and "
        "painful today, bigger than the other leg."
    )
    turn = bot.respond("t5", letter, mode="patient")
    assert [t.name for t in turn.tools] == ["triage"]
    assert "Entities:" not in turn.reply and "Positive:" not in turn.reply
    assert turn.triage is not None and turn.triage.level in ("urgent", "emergency")


def test_an_attached_letter_is_triaged_in_patient_mode(bot: Assistant) -> None:
    text = (
        b"Discharge letter: admitted with pneumonia. Since home she is confused and breathing fast."
    )
    turn = bot.respond("t6", "", [Attachment("letter.txt", text)], mode="patient")
    assert [t.name for t in turn.tools] == ["triage"]
    assert turn.triage is not None and turn.triage.level == "emergency"


def test_a_general_question_while_questions_are_open_goes_to_knowledge(bot: Assistant) -> None:
    bot.respond("t7", "I've got a sore throat", mode="patient")
    turn = bot.respond("t7", "what is a sore throat?", mode="patient")
    assert "triage" not in [t.name for t in turn.tools] and turn.triage is None
    case = bot.store.load_case("t7")
    assert case is not None and case[0]["intake"]["pending"]  # still waiting for the answer


def test_clinician_mode_keeps_its_behaviour_and_triages_on_request(bot: Assistant) -> None:
    text = "58M, 3 day history of productive cough, afebrile, no breathlessness."
    first = bot.respond("t8", text)
    assert "triage" not in [t.name for t in first.tools] and first.triage is None
    turn = bot.respond("t8", "triage this")
    assert [t.name for t in turn.tools] == ["triage"] and turn.triage is not None
    assert turn.reply.startswith("Triage (rule-based decision support")


def test_without_the_triage_tool_patient_mode_behaves_as_before(settings: Settings) -> None:
    b = Assistant(
        settings, llm=ScriptedLLM(default="x"), embedder=HashingEmbedder(), registry=fake_registry()
    )
    turn = b.respond("t9", "my 6 week old has a fever", mode="patient")
    assert turn.tools == [] and turn.safety.emergency and turn.triage is None
    b.close()


def test_slack_shows_the_level_first(bot: Assistant) -> None:
    first = bot.respond("t10", "I've had a sore throat for 3 days, I'm 30", mode="patient")
    final = answer_no(bot, "t10", first)
    blocks = render_messages(final)[0]["blocks"]
    assert blocks[0]["text"]["text"].startswith("*Where to get care: HOME CARE")


def test_history_command_shows_how_the_level_changed(bot: Assistant, tmp_path: Path) -> None:
    first = bot.respond("t11", "I've had a sore throat for 3 days, I'm 30", mode="patient")
    answer_no(bot, "t11", first)
    trail = triage_trail(bot.history("t11"))
    assert trail[0] == "triage: routine (asking)"
    assert any(t and "-> self_care" in t for t in trail)


def test_registry_lists_triage() -> None:
    assert "triage" in TOOL_NAMES


# ---------------------------------------------------------------- router property

ROUTER = Router(IntentClassifier(HashingEmbedder()), RouterSettings())


def ref(kind: str) -> AttachmentRef:
    return AttachmentRef(sha256="b" * 64, name="f", media_type="x", kind=kind, size=1)  # type: ignore[arg-type]


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=300),
    st.lists(st.sampled_from(["image", "dicom", "report"]), max_size=2),
    st.booleans(),
    st.sampled_from(["patient", "clinician"]),
)
def test_patient_router_never_fails_and_plans_known_tools(
    text: str, kinds: list[str], pending: bool, mode: str
) -> None:
    case = empty_case(mode)  # type: ignore[arg-type]
    if pending:
        case["intake"] = {"pending": [{"id": "breathing", "topics": ["breathing"], "concepts": []}]}
    plan = ROUTER.plan(text, [ref(k) for k in kinds], case, available=TOOL_NAMES)
    assert set(plan.tools) <= set(TOOL_NAMES)
    if mode == "clinician" and not text.strip().lower().startswith(("triage", "please triage")):
        assert "triage" not in plan.tools


def test_patient_dose_question_inside_a_symptom_story_is_triaged_then_refused(
    bot: Assistant, llm: ScriptedLLM
) -> None:
    """The dose is refused, but the story it came with still gets a level of care (rules only:
    no model, no answer tool); a bare dose question gets the refusal alone."""
    text = "my 4 year old has a cold and a temperature, how much calpol can I give her?"
    turn = bot.respond("dose-story", text, mode="patient")
    assert turn.safety.refused and "individual_dosing" in turn.safety.reasons
    assert [t.name for t in turn.tools] == ["triage"] and llm.prompts == []
    assert turn.triage is not None and turn.triage.level in ("urgent", "routine", "self_care")
    assert turn.reply.index(messages.REFUSE_DOSING_PATIENT) > 0  # after the triage reply
    bare = bot.respond("dose-bare", "how much ibuprofen can I take?", mode="patient")
    assert bare.reply == messages.REFUSE_DOSING_PATIENT and bare.tools == []


def test_a_question_after_an_emergency_repeats_it(bot: Assistant) -> None:
    """'Should I wait for my wife?' after stroke signs: the emergency still stands."""
    first = bot.respond(
        "t20", "my face is drooping on one side and my speech is slurred", mode="patient"
    )
    assert first.triage is not None and first.triage.level == "emergency"
    turn = bot.respond("t20", "should I wait for my wife to come home first?", mode="patient")
    assert "triage" not in [t.name for t in turn.tools]  # nothing new was triaged
    assert turn.safety.emergency and turn.triage is not None
    assert turn.triage.level == "emergency" and turn.triage.standing
    assert turn.triage.next_questions == []
    assert turn.reply.startswith("Earlier in this conversation you described warning signs")
    assert "stroke" in turn.reply.split("\n\n")[0].lower()


def test_a_standing_decision_expires_and_a_new_story_replaces_it(bot: Assistant) -> None:
    bot.respond("t21", "crushing chest pain down my left arm and I'm sweating", mode="patient")
    for _ in range(STANDING_TURNS):
        turn = bot.respond("t21", "what is angina?", mode="patient")
        assert turn.triage is not None and turn.triage.standing and turn.safety.emergency
    turn = bot.respond("t21", "what is angina?", mode="patient")
    assert turn.triage is None and not turn.safety.emergency
    case = bot.store.load_case("t21")
    assert case is not None and "disposition" not in case[0]


def test_a_provisional_level_never_stands(bot: Assistant) -> None:
    first = bot.respond("t22", "I've got a sore throat", mode="patient")
    assert first.triage is not None and first.triage.provisional
    turn = bot.respond("t22", "what is a sore throat?", mode="patient")
    assert turn.triage is None and "Earlier in this conversation" not in turn.reply


def test_a_new_complaint_does_not_make_an_emergency_forgotten(bot: Assistant) -> None:
    bot.respond("t23", "crushing chest pain down my left arm and I'm sweating", mode="patient")
    turn = bot.respond("t23", "I also have a sore throat", mode="patient")
    assert turn.safety.emergency
    # after an emergency decision, more complaints are more of the same story: the episode (and
    # its emergency) goes on, said again at the top
    assert turn.triage is not None and turn.triage.level == "emergency"
    assert turn.reply.startswith("This could be an emergency")
    turn = bot.respond("t23", "should I wait for my wife to come home first?", mode="patient")
    assert turn.safety.emergency and turn.reply.startswith("Earlier in this conversation")


def test_only_emergency_and_same_day_decisions_stand(bot: Assistant) -> None:
    """A home-care decision is not attached to the next, unrelated question."""
    turn = answer_no(
        bot, "t24", bot.respond("t24", "I've got a sore throat, I'm 30", mode="patient")
    )
    assert turn.triage is not None and turn.triage.level in ("self_care", "routine")
    assert not turn.triage.provisional
    later = bot.respond("t24", "what is angina?", mode="patient")
    assert later.triage is None and "Earlier in this conversation" not in later.reply
