"""The intake parser: negation, values, who is ill; property-based tests for bad or odd input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tools.triage.parse import (
    educational_question,
    mentions_symptoms,
    parse,
    polarity,
)
from tools.triage.values import parse_age, parse_durations, parse_severity, parse_temperature

HSET = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (lay phrase, concept it must map to)
PHRASES = [
    ("a sore throat", "sore_throat"),
    ("a temperature", "fever"),
    ("a rash", "rash"),
    ("a cough", "cough"),
    ("chest pain", "chest_pain"),
    ("diarrhoea", "diarrhoea"),
    ("a headache", "headache"),
    ("a stiff neck", "neck_stiffness"),
    ("tummy ache", "abdominal_pain"),
    ("earache", "earache"),
]


@pytest.mark.parametrize(
    ("text", "concept", "status"),
    [
        ("no fever", "fever", "absent"),
        ("I haven't fainted", "fainting", "absent"),
        ("I havent fainted", "fainting", "absent"),
        ("she hasnt been sick", "vomiting", "absent"),
        ("no temp. cough since monday", "cough", "present"),
        ("no fever, cough for 3 days", "cough", "present"),
        ("no fever, rash or vomiting", "rash", "absent"),
        ("I don't have chest pain but I do have a bad cough", "chest_pain", "absent"),
        ("I don't have chest pain but I do have a bad cough", "cough", "present"),
        ("I think I have a fever", "fever", "possible"),
        ("denies chest pain, shortness of breath, or syncope", "fainting", "absent"),
        ("a bit breathless walking, which is normal for him", "breathless", "absent"),
        ("my son had a fever last week, no temperature today", "fever", "absent"),
        ("I can't swallow, not even my own spit", "drooling", "present"),
        ("my inhaler isn't helping", "reliever_not_helping", "present"),
    ],
)
def test_lay_negation(text: str, concept: str, status: str) -> None:
    assert parse(text).status(concept) == status


def test_hypothetical_mentions_count_for_nothing() -> None:
    found = parse("what should I do if she gets a rash?")
    assert found.status("rash") is None


def test_contained_complaints_are_not_double_counted() -> None:
    assert parse("my baby has nappy rash").status("rash") is None
    assert parse("cold sore on my lip").status("cold") is None


@pytest.mark.parametrize(
    ("text", "who", "relation", "sex", "age"),
    [
        ("my 2 year old son has a fever", "other", "son", "male", (2.0, 2.0)),
        ("my 6 week old baby is hot", "other", "baby", None, (6 / 52, 6 / 52)),
        ("I'm 34 weeks pregnant with a headache", "self", None, "female", None),
        ("58M central chest pain", "other", "patient", "male", (58.0, 58.0)),
        ("my mum is 82 and has had a fall", "other", "mum", "female", (82.0, 82.0)),
        ("I'm his daughter. He is 76 and breathless", "other", None, "male", (76.0, 76.0)),
    ],
)
def test_who_is_ill(
    text: str, who: str, relation: str | None, sex: str | None, age: tuple[float, float] | None
) -> None:
    found = parse(text)
    assert found.subject == who
    assert found.relation == relation
    assert found.sex == sex
    if age is None:
        assert found.age is None or not found.age_stated
    else:
        assert found.age == pytest.approx(age)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("cough for 3 days", (3.0, 3.0)),
        ("been there about 4 weeks now", (28.0, 28.0)),
        ("since yesterday", (1.0, 1.6)),
        ("3/7 history", (3.0, 3.0)),
        ("bad case of the runs, 3rd day", (3.0, 3.0)),  # clinical counting: day 1 is the first
        ("sprained my wrist 2 weeks ago", (14.0, 14.0)),
        ("for a couple of months", (60.0, 90.0)),
    ],
)
def test_durations(text: str, days: tuple[float, float]) -> None:
    got = max((d.range for d in parse_durations(text)), key=lambda r: r[1])
    assert got == pytest.approx(days)


def test_an_event_long_ago_is_not_the_illness_duration() -> None:
    assert parse_durations("i had a heart attack 5 years ago") == []


def test_values() -> None:
    assert parse_temperature("temp of 38.5 this morning") == 38.5
    assert parse_temperature("102f") == pytest.approx(38.9)
    assert parse_temperature("34 weeks pregnant") is None
    assert parse_severity("8 or 9 out of 10") == 9.0
    assert parse_severity("agonising pain") == 9.0
    assert parse_severity("7", bare=True) == 7.0
    assert parse_age("46", bare=True) == ((46.0, 46.0), True)


def test_answers_polarity() -> None:
    assert polarity("No.") == "no"
    assert polarity("nope, nothing like that") == "no"
    assert polarity("yeah a bit") == "yes"
    assert polarity("I'm not sure") == "unsure"


def test_symptom_story_detection() -> None:
    assert mentions_symptoms("sore throat for 3 days")
    assert mentions_symptoms("what can I take for my sore throat?")
    assert not mentions_symptoms("what is a sore throat?")
    assert not mentions_symptoms("is a cold contagious?")
    assert educational_question("what is meningitis?")


# ---------------------------------------------------------------- properties


@HSET
@given(st.text(max_size=600))
def test_parse_never_fails_and_values_stay_in_range(text: str) -> None:
    found = parse(text)
    for mention in found.mentions.values():
        assert mention.status in ("present", "absent", "possible")
    if found.age is not None:
        assert 0 <= found.age[0] <= found.age[1] <= 115
    if found.duration is not None:
        assert 0 <= found.duration[0] <= found.duration[1]
    if found.temperature is not None:
        assert 35 <= found.temperature <= 42.5
    if found.severity is not None:
        assert 0 <= found.severity <= 10
    assert found.subject in (None, "self", "other")


@HSET
@given(
    st.sampled_from(PHRASES),
    st.sampled_from(["I have {p}", "I've got {p}", "my son has {p}", "{p} since yesterday"]),
    st.sampled_from(
        ["no {p}", "I don't have {p}", "I haven't got {p}", "denies {p}", "without {p}"]
    ),
)
def test_negation_flips_a_mention(phrase: tuple[str, str], pos: str, neg: str) -> None:
    words, concept = phrase
    bare = words.removeprefix("a ")
    assert parse(pos.format(p=words)).status(concept) == "present"
    assert parse(neg.format(p=bare)).status(concept) == "absent"


@HSET
@given(
    st.integers(min_value=1, max_value=60),
    st.sampled_from([("day", 1.0), ("week", 7.0), ("month", 30.0)]),
    st.sampled_from(["for {n} {u}s", "for the last {n} {u}s", "{n} {u}s now"]),
)
def test_stated_durations_are_read_exactly(n: int, unit: tuple[str, float], template: str) -> None:
    name, days = unit
    got = parse_durations(template.format(n=n, u=name))
    assert got and got[0].range == (n * days, n * days)


@HSET
@given(st.integers(min_value=1, max_value=99), st.sampled_from(["son", "daughter", "dad", "mum"]))
def test_stated_ages_are_read_exactly(age: int, who: str) -> None:
    found = parse(f"my {age} year old {who} has a cough")
    assert found.age == (float(age), float(age)) and found.subject == "other"
