"""Self-care information beside the virtual-doctor triage (patient mode): a home-care or
see-your-doctor level, also while questions are open, gets cited consumer-health advice; an
urgent or emergency level never does; nothing found leaves the triage reply alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.core.config import Settings
from assistant.policy import messages
from assistant.router import after_triage, complaint_phrases
from assistant.service import Assistant
from tests.fakes.bots import bot_over
from tests.fakes.self_care import search_knowledge
from tools.answer import generate_answer
from tools.registry import ToolRegistry
from tools.triage import assess, triage

BOTH = {"search_knowledge", "generate_answer"}


@pytest.fixture
def bot(settings: Settings) -> Iterator[Assistant]:
    yield from bot_over(settings, ToolRegistry([search_knowledge, generate_answer, triage]))


def test_advice_follows_the_triage_questions_cited(bot: Assistant) -> None:
    turn = bot.respond("s1", "My throat is sore. What should I do?", mode="patient")
    assert [t.name for t in turn.tools] == ["triage", "search_knowledge", "generate_answer"]
    assert turn.tools[1].args["query"] == "My throat is sore. What should I do?"
    assert turn.triage is not None and turn.triage.provisional
    assert turn.reply.startswith(messages.TRIAGE_ASK)
    assert turn.reply.index(messages.TRIAGE_ASK) < turn.reply.index("Rest and fluids help")
    assert "[1]" in turn.reply and [c.id for c in turn.citations] == ["kb-sore-throat"]
    assert messages.TRIAGE_INVITE not in turn.reply  # the triage is already under way
    assert not turn.safety.emergency


def test_bare_answers_get_no_advice_until_the_decision(bot: Assistant) -> None:
    bot.respond("s2", "I've had a sore throat for 3 days, I'm 30", mode="patient")
    turn = bot.respond("s2", "No.", mode="patient")
    while turn.triage is not None and turn.triage.provisional:
        assert [t.name for t in turn.tools] == ["triage"]
        turn = bot.respond("s2", "No.", mode="patient")
    assert turn.triage is not None and turn.triage.level == "self_care"
    assert [t.name for t in turn.tools] == ["triage", "search_knowledge", "generate_answer"]
    assert turn.tools[1].args["query"] == "What should I do about sore throat?"
    assert "Rest and fluids help" in turn.reply and turn.reply.startswith(
        messages.TRIAGE_LEVEL["self_care"]
    )


def test_nothing_found_leaves_the_triage_reply_alone(bot: Assistant) -> None:
    turn = bot.respond("s3", "I have had a runny nose since yesterday", mode="patient")
    assert [t.name for t in turn.tools] == ["triage", "search_knowledge", "generate_answer"]
    assert messages.DONT_KNOW_PATIENT not in turn.reply
    assert messages.NEEDS_REVIEW_PATIENT not in turn.reply and turn.citations == []
    assert turn.reply.startswith(messages.TRIAGE_ASK)


def test_an_emergency_gets_no_advice(bot: Assistant) -> None:
    turn = bot.respond("s4", "my throat is closing up and I can't breathe", mode="patient")
    assert turn.safety.emergency and [t.name for t in turn.tools] == ["triage"]


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("What should I do about a cold?", "What should I do about a cold?"),
        ("What should I do about a bee sting?", "What should I do about a bee sting?"),
        (
            "I've had a sore throat and a runny nose for 3 days, no fever, what should I do?",
            "What should I do about sore throat?",
        ),
        (
            "I got stung by a bee on my arm an hour ago and it hurts",
            "What should I do about an insect bite or sting?",
        ),
    ],
)
def test_the_question_is_the_users_or_names_the_complaint(text: str, query: str) -> None:
    result = assess(text)
    assert result["level"] == "routine"
    steps = after_triage(result, BOTH, text)
    assert [s["name"] for s in steps] == ["search_knowledge", "generate_answer"]
    assert steps[0]["args"] == {"query": query} and steps[1]["args"] == {"question": query}


def test_urgent_and_emergency_levels_and_bare_answers_get_nothing() -> None:
    for level in ("urgent", "emergency", None):
        result = {"level": level, "knowledge_query": "sore throat", "complaints": []}
        assert after_triage(result, BOTH, "I have a sore throat") == []
    open_questions = {"level": "routine", "knowledge_query": None, "complaints": []}
    assert after_triage(open_questions, BOTH, "no, 3 days") == []
    final = {
        "level": "self_care",
        "knowledge_query": "cold symptoms (runny or blocked nose)",
        "complaints": [{"id": "cold", "name": "cold symptoms (runny or blocked nose)"}],
    }
    assert after_triage(final, BOTH, "No.")[0]["args"]["query"] == (
        "What should I do about cold symptoms?"
    )
    # without generate_answer, or in clinician mode: the passage alone, at the final decision
    assert after_triage(final, BOTH, "No.", "clinician") == after_triage(
        final, {"search_knowledge"}, "No."
    )
    assert after_triage(final, {"search_knowledge"}, "No.") == [
        {"name": "search_knowledge", "args": {"query": final["knowledge_query"], "k": 3}}
    ]
    assert complaint_phrases("", final["complaints"]) == []
