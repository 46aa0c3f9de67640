"""A story that is not fully understood is never home care: pieces nothing matched but near a
concept (semantic.Near) are kept in the intake record; a warning sign a piece came near is asked
about; and the decision never ends at self_care while any such piece is on record."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.core.embeddings import HashingEmbedder
from tests.fakes.triage import adult_intake
from tools.triage.engine import RANK, decide, relevant_items
from tools.triage.intake import new_intake, update
from tools.triage.lexicon import lexicon
from tools.triage.parse import Findings
from tools.triage.semantic import Near, SemanticMatcher, load_settings
from tools.triage.unexplained import near_signs

LEX = lexicon()
SELF_CARE = sorted({r.when.all[0] for r in LEX.rules if r.level == "self_care" and r.when.all})
SIGNS = sorted(
    c
    for c, concept in LEX.concepts.items()
    if concept.kind == "sign"
    and concept.topic
    and any(c in r.when.all and RANK[r.level] >= RANK["urgent"] for r in LEX.rules)
)


def _settle_everything(intake: dict[str, Any]) -> None:
    """Every relevant warning sign answered no (so only the unexplained piece is left)."""
    present = [c for c, f in intake["facts"].items() if f["status"] == "present"]
    for cid in relevant_items(intake, LEX, present):
        if cid in LEX.concepts and cid not in intake["facts"]:
            intake["facts"][cid] = {"status": "absent", "turn": 1, "said": "answered no"}


def test_the_matcher_reports_pieces_near_a_concept(tmp_path: Path) -> None:
    base = load_settings()
    assert base is not None and 0.0 < base.near < base.threshold
    settings = dataclasses.replace(base, model="hashing-384", threshold=0.99, margin=0.0, near=0.9)
    m = SemanticMatcher(HashingEmbedder(), LEX, settings, tmp_path)
    near: list[Near] = []
    assert m.match("having a fit all morning", near=near) == []  # below the threshold
    assert near and near[0].piece == "having a fit all morning" and near[0].score < 0.99
    far: list[Near] = []
    m2 = SemanticMatcher(HashingEmbedder(), LEX, dataclasses.replace(settings, near=0.0), tmp_path)
    assert m2.match("having a fit all morning", near=far) == [] and far == []


def test_the_record_keeps_unexplained_pieces() -> None:
    intake = new_intake()
    found = Findings(text="x", near=[("black_stool", 0.6, "my poo looks like tar")])
    update(intake, found, turn=1)
    assert intake["unexplained"] == [
        {"near": "black_stool", "score": 0.6, "said": "my poo looks like tar", "turn": 1}
    ]
    assert near_signs(intake, LEX) == ["black_stool"]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SELF_CARE), st.sampled_from(sorted(LEX.concepts)))
def test_an_unexplained_piece_is_never_home_care(complaint: str, near: str) -> None:
    intake = adult_intake(complaint)
    _settle_everything(intake)
    before = decide(copy.deepcopy(intake), allow_questions=False)
    assert before is not None
    intake["unexplained"] = [{"near": near, "score": 0.6, "said": "something odd", "turn": 1}]
    for allow in (True, False):
        after = decide(copy.deepcopy(intake), allow_questions=allow)
        assert after is not None
        assert after.level != "self_care"
        assert RANK[after.level] >= RANK[before.level]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SELF_CARE), st.sampled_from(SIGNS))
def test_a_warning_sign_the_story_came_near_is_asked(complaint: str, sign: str) -> None:
    intake = adult_intake(complaint)
    _settle_everything(intake)
    intake["facts"].pop(sign, None)
    intake["unexplained"] = [{"near": sign, "score": 0.6, "said": "something odd", "turn": 1}]
    decision = decide(copy.deepcopy(intake))
    assert decision is not None
    probe = copy.deepcopy(intake)
    probe["facts"][sign] = {"status": "present", "turn": 2, "said": ""}
    _settle_everything(probe)  # what the sign itself brings into question, answered no
    worse = decide(probe, allow_questions=False)
    assert worse is not None
    if RANK[worse.level] <= RANK[decision.level]:
        return  # the sign would not change this decision: nothing to ask
    topics = {t for q in decision.next_questions for t in q["topics"]}
    assert LEX.concepts[sign].topic in topics, (complaint, sign, decision.next_questions)
    final = decide(copy.deepcopy(intake), allow_questions=False)
    assert final is not None and final.level != "self_care"


def test_denials_recognised_concepts_and_benign_neighbours_are_not_unexplained() -> None:
    from tools.triage.parse import Mention
    from tools.triage.unexplained import keep_near

    near = [
        ("rectal_bleeding", 0.6, "no blood"),  # a denial
        ("dysuria", 0.6, "its stinging like mad"),  # recognised in the same message
        ("allergy_symptoms", 0.6, "itchy around the cat"),  # only ever home care
        ("pain_general", 0.6, "the pain is unbearable"),  # catch-all beside a complaint
        ("black_stool", 0.6, "my poo looks like tar"),  # kept
    ]
    mentions = {
        "dysuria": Mention("dysuria", "present", 0, 3, "x"),
        "abdominal_pain": Mention("abdominal_pain", "present", 0, 3, "x"),
    }
    assert keep_near(near, mentions, LEX) == [("black_stool", 0.6, "my poo looks like tar")]
    kept = keep_near([("pain_general", 0.6, "it is unbearable")], {}, LEX)
    assert kept == [("pain_general", 0.6, "it is unbearable")]


WORDS = ["the", "thing", "from", "yesterday", "is", "back", "odd", "my", "mum", "since", "again"]
CLINICAL = ["Discharge summary: admitted with hyponatraemia, Na 121, fluid restricted.", "Pt c/o x"]


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join),
        st.sampled_from(CLINICAL),
    )
)
def test_a_story_nothing_decides_gets_a_provisional_urgent(text: str) -> None:
    from tools.triage import assess

    result = assess(text)
    assert result["level"] is not None
    generic = all(c["id"] in LEX.generic for c in result.get("complaints", []))
    if generic and result.get("next_questions"):
        assert result["level"] in ("urgent", "emergency") and result["provisional"]
