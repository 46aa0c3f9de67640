"""The answer evaluation (assistant/evals/kb_answers.py): runs over a slice of the shipped
consumer-health passages with the stand-in model, its measures, seeded sample and docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.evals import kb_answers as A
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.ingest import ingest_sources
from knowledge.kb.sources.medquad import MedQuADSource

TOPICS = {"Common Cold", "Sore Throat", "Back Pain", "Noonan syndrome", "Kidney Stones in Adults"}


def test_standin_run_on_a_slice_is_grounded_and_rendered(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = KnowledgeIndex.ephemeral(HashingEmbedder())
    ingest_sources(index, [MedQuADSource(topics=TOPICS)])
    live = [q for q in A.questions("liveqa", "test") if q["subject"].lower() == "noonan syndrome"]
    held = [
        {
            "id": "h1",
            "question": "What is back pain?",
            "topic": "Back Pain",
            "relevant": ["MPlusHealthTopics_0000078_1", "NINDS_0000037_1"],
            "split": "test",
            "qtype": "information",
        }
    ]
    mine = [
        {
            "id": "c1",
            "question": "What are the symptoms of kidney stones?",
            "qtype": "symptoms",
            "keywords": [["pain"], ["urin", "blood"]],
        }
    ]
    sets = {"liveqa": live, "medquad": held, "consumer": mine}
    monkeypatch.setattr(A, "questions", lambda kind, split: sets[kind])
    out = A.eval_answers(settings, index, "test", lambda _: None, models=("standin",))
    run = out["runs"]["always declines, + consumer health, medquad"]
    assert run["n"] == 1 and run["answered"] == 1.0 and run["unsupported_units"] == 0
    assert run["items"][0]["on_focus"] and run["items"][0]["cites_reference"]
    assert run["reading_grade_mean"] is not None
    assert run["items"][0]["asked_section"] == "information" and run["asked_section"] == 1.0
    mine_run = out["runs"]["always declines, + consumer health, consumer"]
    item = mine_run["items"][0]
    assert item["asked_section"] == "symptoms" and isinstance(item["mentions"], bool)
    assert mine_run["mentions"] in (0.0, 1.0)
    base = out["runs"]["always declines, today's corpus, medquad"]
    assert base["answered"] == 0.0  # no term passages in this index
    md = A.render_markdown(A.merge(tmp_path / "kb-answers-test.json", out))
    assert "MedQuAD held-out, test split" in md and "+ consumer health" in md
    assert "-100%" in md  # "I don't know" 1.0 -> 0.0 against today's corpus
    assert json.loads((tmp_path / "kb-answers-test.json").read_text())["runs"]


def test_seeded_sample_is_fixed_and_from_the_test_split() -> None:
    qs = A.questions("liveqa", "test")
    assert len(qs) == 104
    a, b = A.seeded_sample(qs, 60), A.seeded_sample(qs, 60)
    assert [q["id"] for q in a] == [q["id"] for q in b] and len(a) == 60
    assert {q["split"] for q in a} == {"test"}
    assert len(A.seeded_sample(qs, None)) == 104


def test_consumer_questions_are_the_frozen_twenty() -> None:
    from knowledge.kb.sources import sections

    qs = A.consumer_questions()
    assert len(qs) == 20 and len({q["id"] for q in qs}) == 20
    assert all(sections.normalize(q["qtype"]) for q in qs)
    assert all(q["mentions"] and q["keywords"] for q in qs)


def test_focus_and_reading_grade() -> None:
    assert A.on_focus(["Kidney Stones in Adults"], ["kidney stone"])
    assert not A.on_focus(["Back Pain"], ["kidney stone"])
    easy = A.reading_grade("Rest. Drink water. [1]")
    hard = A.reading_grade("Glomerulonephritis necessitates immunosuppressive pharmacotherapy. [1]")
    assert easy is not None and hard is not None and easy < hard
    assert A.reading_grade("[1]") is None
