"""Semantic matching: pieces, what is compared, the background, polarity agreement, the cache,
and (slow, real MiniLM) that plain descriptions the patterns lack are recognised."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.core.embeddings import HashingEmbedder
from tools.triage.lexicon import lexicon
from tools.triage.semantic import (
    SemanticMatcher,
    Settings,
    concept_phrases,
    core,
    load_settings,
    matcher,
    pieces,
)

LEX = lexicon()


def _settings(**kw: object) -> Settings:
    base = load_settings()
    assert base is not None
    return dataclasses.replace(base, model="hashing-384", **kw)  # type: ignore[arg-type]


def test_the_shipped_settings_name_known_concepts() -> None:
    s = load_settings()
    assert s is not None and s.model == "all-MiniLM-L6-v2" and 0.3 < s.threshold < 0.95
    rows = concept_phrases(LEX, s.extra)
    kinds = {LEX.concepts[c].kind for _p, c in rows}
    assert kinds == {"complaint", "sign"}
    assert ("having a fit", "seizure") in rows


def test_pieces_and_their_core() -> None:
    text = "my 4 year old is having a fit since this morning, and she won't respond"
    got = [p.text for p in pieces(text)]
    assert got == ["my 4 year old is having a fit since this morning", "she won't respond"]
    assert core(got[0]) == "having a fit"
    last = pieces(text)[1].last
    assert text[last[0] : last[1]] == "respond"


def test_only_the_configured_embedder_switches_it_on() -> None:
    assert matcher(HashingEmbedder(), LEX) is None  # tuned for MiniLM: off with another one
    assert matcher(None, LEX) is None


def test_matching_fills_gaps_and_respects_background_and_polarity(tmp_path: Path) -> None:
    m = SemanticMatcher(HashingEmbedder(), LEX, _settings(threshold=0.3, margin=0.0), tmp_path)
    hits = m.match("having a fit")
    assert hits and hits[0].concept == "seizure"
    assert m.match("having a fit", skip=[(0, 3)]) == []  # the lexicon already explained it
    assert m.match("my breathing is fine") == []  # the background is nearer
    # "unable to walk on it" must not match a piece that says the opposite
    assert all(h.concept != "cant_weight_bear" for h in m.match("i can walk on it"))
    neg = m.match("cannot put any weight on it")
    assert neg and neg[0].concept == "cant_weight_bear" and neg[0].negative_form


def test_phrase_vectors_are_cached(tmp_path: Path) -> None:
    SemanticMatcher(HashingEmbedder(), LEX, _settings(), tmp_path)
    cached = list(tmp_path.glob("triage-semantic-*.npy"))
    assert len(cached) == 1
    again = SemanticMatcher(HashingEmbedder(), LEX, _settings(), tmp_path)
    assert again.matrix.shape[0] == len(again.concepts)


@pytest.mark.slow
def test_minilm_recognises_descriptions_the_patterns_lack(tmp_path: Path) -> None:
    from assistant.core.embeddings import MiniLMEmbedder
    from tools.triage.parse import parse

    emb = MiniLMEmbedder()
    cases = {
        "my little girl is having convulsions": ("seizure", "present"),
        "no, he is breathing normally": ("breathless", None),
        "i can't pee at all": ("urinary_retention", "present"),
    }
    for text, (concept, status) in cases.items():
        found = parse(text, embedder=emb, cache_dir=tmp_path)
        assert found.status(concept) == status, (text, found.as_dict()["mentions"])
