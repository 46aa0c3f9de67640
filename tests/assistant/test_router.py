from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.core.config import RouterSettings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.schema import AttachmentRef
from assistant.core.state import empty_case
from assistant.evals.runner import routing_items, score_router
from assistant.router import IntentClassifier, Router, load_intent_examples, looks_like_report
from tools.registry import TOOL_NAMES

ROUTER = Router(IntentClassifier(HashingEmbedder()), RouterSettings())


def ref(kind: str) -> AttachmentRef:
    return AttachmentRef(sha256="a" * 64, name="f", media_type="x", kind=kind, size=1)  # type: ignore[arg-type]


def test_attachments_route_by_kind() -> None:
    plan = ROUTER.plan("", [ref("image"), ref("report"), ref("dicom")], empty_case("clinician"))
    assert plan.tools == ["classify_image", "extract_entities", "classify_image"]


def test_report_shaped_text_goes_to_ner() -> None:
    text = "FINDINGS: Heart size normal. No pneumothorax.\nIMPRESSION: Small left effusion."
    assert ROUTER.plan(text, [], empty_case("clinician")).tools == ["extract_entities"]
    assert looks_like_report(
        "Lungs clear. No effusion or pneumothorax. Heart size is normal and stable.", 60
    )
    assert not looks_like_report("what is a pleural effusion on the left lung?", 60)


def test_follow_up_needs_case_findings() -> None:
    case = empty_case("clinician")
    assert ROUTER.plan("is there an effusion?", [], case).tools == [
        "search_knowledge",
        "generate_answer",
    ]
    case["findings"] = [{"text": "effusion", "label": "FINDING"}]
    assert ROUTER.plan("is there an effusion?", [], case).tools == ["generate_answer"]


def test_intent_examples_are_valid_and_disjoint_from_heldout() -> None:
    examples = load_intent_examples()
    train = {t.lower() for texts in examples.values() for t in texts}
    held = {item["text"].lower() for item in routing_items()}
    assert not train & held


def test_heldout_routing_accuracy_with_hashing_baseline() -> None:
    result = score_router(ROUTER, routing_items())
    assert result["n"] >= 40
    # the dependency-free baseline; MiniLM is measured by `clinassist eval routing`
    assert result["tool_accuracy"] >= 0.7, result["errors"]


@hsettings(max_examples=200, deadline=None)
@given(
    st.text(max_size=400),
    st.lists(st.sampled_from(["image", "dicom", "report"]), max_size=3),
    st.booleans(),
)
def test_router_never_fails_and_only_plans_known_tools(
    text: str, kinds: list[str], findings: bool
) -> None:
    case = empty_case("clinician")
    if findings:
        case["findings"] = [{"text": "x", "label": "FINDING"}]
    plan = ROUTER.plan(text, [ref(k) for k in kinds], case)
    assert set(plan.tools) <= set(TOOL_NAMES)
    assert plan.tools[: len(kinds)] == [
        "extract_entities" if k == "report" else "classify_image" for k in kinds
    ]
    for step in plan.steps:
        assert isinstance(step["args"], dict)


def test_short_follow_up_question_carries_the_previous_topic() -> None:
    case = empty_case("clinician")
    plan = ROUTER.plan("what causes it?", [], case, ["what is a pleural effusion?"])
    assert plan.tools == ["search_knowledge", "generate_answer"]
    assert plan.steps[0]["args"]["query"] == "what is a pleural effusion? what causes it?"
    plan = ROUTER.plan("what causes gout?", [], case, ["what is a pleural effusion?"])
    assert plan.steps[0]["args"]["query"] == "what causes gout?"


class _Exploding:
    name, dim = "boom", 8

    def embed(self, texts: list[str]) -> None:
        raise AssertionError("the classifier should not be needed")


def test_small_talk_needs_no_embedding_model() -> None:
    router = Router(IntentClassifier(_Exploding(), {"greeting": ["hi"]}), RouterSettings())  # type: ignore[arg-type]
    assert router.plan("Hello!", [], empty_case("clinician")).intent == "greeting"
    assert router.plan("thanks, that helps", [], empty_case("clinician")).intent == "thanks"
    assert router.plan("help", [], empty_case("clinician")).intent == "help"


def test_a_patient_statement_nothing_recognises_goes_to_triage() -> None:
    patient = empty_case("patient")
    for text in ("the thing from yesterday is back again now", "I took a load of them earlier"):
        plan = ROUTER.plan(text, [], patient)
        assert plan.tools == ["triage"], text
    assert ROUTER.plan("thank you so much", [], patient).tools == []
    assert ROUTER.plan("hello there", [], patient).tools == []
    assert "triage" not in ROUTER.plan("I want to know about vaccines", [], patient).tools
    assert "triage" not in ROUTER.plan("the thing is back", [], empty_case("clinician")).tools
    # without the triage tool the usual routing stands
    plan = ROUTER.plan(
        "the thing from yesterday is back", [], patient, available=["search_knowledge"]
    )
    assert "triage" not in plan.tools


@hsettings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["it", "the", "thing", "came", "back", "again", "today", "quite", "odd"]),
        min_size=3,
        max_size=12,
    )
)
def test_a_patient_statement_is_never_answered_with_knowledge_or_entities(words: list[str]) -> None:
    plan = ROUTER.plan(" ".join(words), [], empty_case("patient"))
    assert plan.tools in (["triage"], [])


def test_what_do_you_see_with_an_image_asks_for_the_draft() -> None:
    case = empty_case("clinician")
    for text in ("What do you see?", "describe it", "what does this x-ray show?", "your read?"):
        plan = ROUTER.plan(text, [ref("image")], case)
        assert plan.tools == ["classify_image"], text
        assert plan.steps[0].get("draft") is True, text
    plan = ROUTER.plan("what is pneumonia?", [ref("image")], case)  # a question about a topic
    assert plan.tools == ["classify_image", "generate_answer"]
    assert "draft" not in plan.steps[0]
    patient = ROUTER.plan("What do you see?", [ref("image")], empty_case("patient"))
    assert "draft" not in patient.steps[0]  # the draft is for clinicians


def test_what_do_you_see_later_reads_the_last_image_again() -> None:
    case = empty_case("clinician")
    case["attachments"] = [{"sha256": "b" * 64, "kind": "image", "name": "cxr.png"}]
    case["images"] = [{"attachment": "b" * 64, "label": "NORMAL"}]
    plan = ROUTER.plan("what do you see?", [], case)
    assert plan.tools == ["classify_image"]
    assert plan.steps[0] == {
        "name": "classify_image",
        "args": {"attachment": "b" * 64},
        "draft": True,
    }
    # "what do you see in the report?" is about the report, not the image
    case["findings"] = [{"text": "effusion", "label": "FINDING"}]
    assert ROUTER.plan("what do you see in the report?", [], case).tools == ["generate_answer"]


# ---- a patient's story that ends in a question is still a story (NHS 111: triage what is told)

_STORIES = [
    "my son swallowed one of those little round batteries",
    "something odd happened yesterday afternoon but I'm fine now",
    "my mum keeps repeating herself and losing things",
    "t2 diabetic, HbA1c came back 62 last week",
]
_QUESTIONS = [
    "should I just wait for it to come out?",
    "is this just old age?",
    "probably nothing?",
    "do I need to see someone?",
    "what should I do?",
]


@hsettings(max_examples=60, deadline=None)
@given(st.sampled_from(_STORIES), st.sampled_from(_QUESTIONS), st.sampled_from([". ", ", ", ".\n"]))
def test_a_story_ending_in_a_question_goes_to_triage(story: str, question: str, sep: str) -> None:
    text = f"{story}{sep}{question}"
    assert ROUTER.plan(text, [], empty_case("patient")).tools == ["triage"], text


@hsettings(max_examples=60, deadline=None)
@given(st.sampled_from(["sepsis", "a miscarriage", "shingles", "a cold", "diabetes"]))
def test_a_bare_general_question_is_not_triaged(topic: str) -> None:
    patient = empty_case("patient")
    for text in (
        f"what is {topic}?",
        f"what is {topic}, how is it treated?",
        f"is {topic} serious?",
    ):
        assert "triage" not in ROUTER.plan(text, [], patient).tools, text
    # mid-intake too: a general question gets its answer
    patient["intake"] = {"pending": [{"topics": ["bleeding"]}]}
    assert "triage" not in ROUTER.plan(f"what is {topic}?", [], patient).tools


@hsettings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["is this", "could this be", "is it", "so is this", "might it be"]),
    st.sampled_from(["a miscarriage", "serious", "an infection", "just a cold", "normal"]),
)
def test_mid_intake_a_question_about_the_case_is_still_triaged(lead: str, what: str) -> None:
    patient = empty_case("patient")
    patient["intake"] = {"pending": [{"topics": ["bleeding"]}]}
    assert ROUTER.plan(f"{lead} {what}?", [], patient).tools == ["triage"]
    assert ROUTER.plan("should I just wait?", [], patient).tools == ["triage"]
    # without an intake in progress the usual routing decides ("is it serious?" has no story)
    assert "triage" not in ROUTER.plan("what is a miscarriage?", [], empty_case("patient")).tools
