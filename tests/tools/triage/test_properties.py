"""Properties of triage as the router uses it: whatever a patient writes that is sent to triage
ends the turn with a level (never "no level"), nothing recognised is never home care, and any
text the red-flag rules match is an emergency, at the start or in the middle of a conversation."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.core.state import empty_case
from assistant.policy import safety
from assistant.router import _triage_plan
from tools.triage import assess
from tools.triage.lexicon import LEVELS, lexicon
from tools.triage.parse import parse

PROPS = hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# pieces of the way people write about their health, to build stories the router must send on
_PEOPLE = ["", "i", "my son", "my 2 year old", "my mum", "my husband", "she", "we"]
_CUES = ["feel", "hurts", "can't stop", "is acting weird", "has been sick", "is swollen", "aches"]
_WORDS = sorted(
    {p.lower() for p, _c in lexicon().hpo_phrases if len(p) < 30}
    | {"funny turn", "blotchy", "wobbly", "off colour", "all over the place", "not right"}
)
_FILLER = ["since yesterday", "for 3 days", "this morning", "and", "but", "really", "a bit", ""]


def stories() -> st.SearchStrategy[str]:
    part = st.one_of(
        st.sampled_from(_PEOPLE),
        st.sampled_from(_CUES),
        st.sampled_from(_WORDS),
        st.sampled_from(_FILLER),
        st.text(max_size=12),
    )
    return st.lists(part, min_size=1, max_size=8).map(lambda xs: " ".join(x for x in xs if x))


def _sent_to_triage(text: str) -> bool:
    """What the graph does in patient mode: a red flag plans triage at once; otherwise the
    router decides (a fresh case)."""
    if safety.red_flags(text):
        return True
    plan = _triage_plan(text.strip(), [], empty_case("patient"), [])
    return plan is not None and "triage" in plan.tools


@PROPS
@given(st.one_of(st.text(max_size=200), stories()))
def test_everything_sent_to_triage_gets_a_level(text: str) -> None:
    assume(_sent_to_triage(text))
    result = assess(text)
    assert result["level"] in LEVELS
    if result["next_questions"]:
        assert result["provisional"] and len(result["next_questions"]) <= 2


@PROPS
@given(stories())
def test_nothing_recognised_is_never_home_care(text: str) -> None:
    lex = lexicon()
    found = parse(text)
    specific = [
        c
        for c in found.present()
        if lex.concepts[c].kind in ("complaint", "sign") and c not in lex.generic
    ]
    assume(not specific)
    result = assess(text)
    assert result["level"] != "self_care"
    if result["provisional"] and not safety.red_flags(text):
        assert result["level"] in ("urgent", "emergency")  # alarming features not yet asked
        assert result["next_questions"][0]["id"] == "describe"  # the open question first


_EXAMPLES = [e for rule in safety.red_flag_rules() for e in rule.examples]


@PROPS
@given(
    st.sampled_from(_EXAMPLES),
    st.one_of(st.sampled_from(["", "hi", "please help", "my son is 4."]), stories()),
    st.one_of(st.sampled_from(["", "what do I do?", "since an hour"]), st.text(max_size=40)),
)
def test_a_red_flag_match_is_always_an_emergency(example: str, before: str, after: str) -> None:
    text = f"{before} {example} {after}"
    assume(safety.red_flags(text))
    result = assess(text)
    assert result["level"] == "emergency" and not result["provisional"]
    assert result["next_questions"] == []  # never delayed by a question


@PROPS
@given(st.sampled_from(_EXAMPLES), stories())
def test_a_red_flag_in_the_middle_of_a_conversation_is_an_emergency(
    example: str, opening: str
) -> None:
    first = assess("I've had a sore throat since Sunday")
    assert first["next_questions"]
    assume(safety.red_flags(example))
    later = assess(f"{opening}. {example}", first["intake"])
    assert later["level"] == "emergency"
