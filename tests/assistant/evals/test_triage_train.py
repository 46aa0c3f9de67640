"""Training the triage safety net: the training sets, provenance and determinism (a fake
embedder; the shipped weights need the real one and ``python -m assistant.evals.triage_train``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.evals.triage_set import BLIND_SETS, load_vignettes
from assistant.evals.triage_train import (
    EMERGENCY_MIN_WORDS,
    POOLS,
    TRAIN_SETS,
    dumps,
    main,
    train,
    training_rows,
)
from tools.triage.classifier import _read


class LengthEmbedder:
    name = "fake-length"
    dim = 3

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [[1.0, len(t) / 100.0, t.count("!") + t.lower().count("can't")] for t in texts]
        v = np.asarray(rows, dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_main_test_split_never_trains_the_classifier() -> None:
    texts, gold, sources = training_rows(set())
    assert set(sources) == set(TRAIN_SETS) and "main:test" not in sources
    data, split = load_vignettes(which="main")
    assert sources["main:dev"]["n"] == len(split["dev"])
    # a test-split story in the training data could only be a one-line opener another set shares
    test_stories = {"\n".join(v["turns"]) for v in data["vignettes"] if v["id"] in split["test"]}
    assert all(len(t.split()) <= 5 for t in test_stories & set(texts))
    assert len(texts) == len(gold) == sum(s["n"] for s in sources.values())
    assert set(gold) == {"emergency", "urgent", "routine", "self_care"}


def test_training_is_deterministic_and_leaves_out_the_held_set(tmp_path: Path) -> None:
    a = train(LengthEmbedder(), {"b", "c"}, features="minilm", sets=POOLS["round10"])
    b = train(LengthEmbedder(), {"b", "c"}, features="minilm", sets=POOLS["round10"])
    assert a == b
    assert set(a["trained_on"]) == {"main:dev", "second", "third", "d", "e", "f"}
    assert (
        a["self_care_threshold"] == 0.35 and "immune_lowering_medicine" in a["self_care_blockers"]
    )
    assert "--exclude b --exclude c" in a["command"]
    # the emergency raise's minimum story goes into the file (the default unless told)
    assert a["emergency_min_words"] == EMERGENCY_MIN_WORDS
    # round 10's pools are named in the command that remakes them
    assert a["command"].endswith("--features minilm --sets round10 --exclude b --exclude c")
    extra = train(
        LengthEmbedder(),
        {"b", "i"},
        features="minilm",
        sets=POOLS["round10-extra"],
        emergency_min_words=9,
    )
    assert {"g", "h"} <= set(extra["trained_on"]) and "i" not in extra["trained_on"]
    assert extra["command"].endswith("--sets round10-extra --exclude b --exclude i")
    path = tmp_path / "classifier.json"
    path.write_text(dumps(a), encoding="utf-8")
    model = _read(path)
    assert model.coef.shape == (4, 6) and model.embedder == "fake-length"
    assert json.loads(path.read_text())["per_level"] == a["per_level"]
    path.write_text(dumps(extra), encoding="utf-8")
    assert _read(path).emergency_min_words == 9


def test_the_dev_st_pool_adds_sets_s_and_t_and_its_folds_may_leave_either_out() -> None:
    """Round 15: ``--sets dev-st`` trains on every development set and sets s and t (not in the
    shipped training sets); a fold without s keeps t, and the command names the pool."""
    assert POOLS["dev-st"] == (*TRAIN_SETS, "s", "t") and "s" not in TRAIN_SETS
    fold = train(LengthEmbedder(), {"s"}, features="minilm", sets=POOLS["dev-st"])
    assert set(fold["trained_on"]) == {*TRAIN_SETS, "t"}
    assert fold["command"].endswith("--features minilm --sets dev-st --exclude s")
    assert fold["n"] == sum(s["n"] for s in fold["trained_on"].values())


def test_the_word_net_learns_a_vocabulary_from_every_development_set(tmp_path: Path) -> None:
    """The word net: TF-IDF of words and word pairs; the embedder only names the deployment."""
    a = train(LengthEmbedder(), {"k"}, features="tfidf-words")
    assert a == train(LengthEmbedder(), {"k"}, features="tfidf-words")  # deterministic
    assert set(a["trained_on"]) == set(TRAIN_SETS) - {"k"} and "main:test" not in a["trained_on"]
    assert a["features"] == "tfidf-words" and a["C"] == 10.0 and a["embedder"] == "fake-length"
    assert a["command"].endswith("triage_train --features tfidf-words --exclude k")
    assert a["threshold"] == 0.7
    assert a["dim"] == len(a["vocabulary"]) == len(a["idf"]) and len(a["coef"][0]) == a["dim"]
    assert "chest pain" in a["vocabulary"]  # word pairs as well as words
    path = tmp_path / "classifier.json"
    path.write_text(dumps(a), encoding="utf-8")
    model = _read(path)
    assert model.features == "tfidf-words" and model.vocabulary is not None
    assert model.vocabulary["chest pain"] == a["vocabulary"].index("chest pain")


def test_the_shipped_kind_is_an_ensemble_of_the_word_net_and_a_minilm_net(tmp_path: Path) -> None:
    e = train(LengthEmbedder(), {"k"})
    assert e["features"] == "ensemble" and e["command"].endswith("triage_train --exclude k")
    assert e["threshold"] == 0.7 and e["emergency_threshold"] == 0.5 and "coef" not in e
    words, minilm = e["members"]
    # the word net's own thresholds: urgent at 0.8, never emergency; the MiniLM net the ensemble's
    assert (words["threshold"], words["emergency_threshold"]) == (0.8, None)
    assert "threshold" not in minilm and "emergency_threshold" not in minilm
    assert (words["features"], words["C"]) == ("tfidf-words", 10.0)
    assert (minilm["features"], minilm["C"], minilm["dim"]) == ("minilm", 1.0, 3)
    # the same training stories for both: the word member is the word net trained alone
    alone = train(LengthEmbedder(), {"k"}, features="tfidf-words")
    assert words["coef"] == alone["coef"] and words["vocabulary"] == alone["vocabulary"]
    assert alone["threshold"] == 0.7  # the word net alone takes the ensemble-free default
    path = tmp_path / "classifier.json"
    path.write_text(dumps(e), encoding="utf-8")
    model = _read(path)
    assert model.features == "ensemble" and model.threshold == 0.7
    assert [m.features for m in model.members] == ["tfidf-words", "minilm"]
    assert [(m.threshold, m.emergency_threshold) for m in model.members] == [
        (0.8, None),
        (0.7, 0.5),
    ]
    assert all(m.embedder == "fake-length" for m in model.members)


def test_the_command_refuses_another_embedder(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CLINASSIST_EMBEDDINGS__BACKEND", "hashing")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "all-MiniLM-L6-v2" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("which", BLIND_SETS)
def test_the_spent_blind_sets_load_frozen_with_their_headers(which: str) -> None:
    data, split = load_vignettes(which=which)
    assert len(data["vignettes"]) == len(split["test"]) and split["dev"] == []
    assert "development" in split["written_after"]
