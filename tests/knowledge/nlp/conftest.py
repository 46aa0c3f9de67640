"""A tiny lexicon pipeline shared by the NER unit tests (built once per session)."""

from __future__ import annotations

import pytest
from spacy.language import Language

from tests.fakes.nlp import build_test_pipeline

TINY_TERMS = [
    ("pleural effusion", "FINDING", "pleural effusion"),
    ("effusion", "FINDING", "pleural effusion"),
    ("pneumothorax", "FINDING", "pneumothorax"),
    ("pneumonia", "FINDING", "pneumonia"),
    ("consolidation", "FINDING", "consolidation"),
    ("atelectasis", "FINDING", "atelectasis"),
    ("respiratory failure", "FINDING", "respiratory failure"),
    ("lung cancer", "FINDING", "lung cancer"),
    ("heart", "ANATOMY", "heart"),
    ("lung", "ANATOMY", "lung"),
    ("chest tube", "DEVICE", "chest tube"),
    ("warfarin", "MEDICATION", "warfarin"),
    ("chest radiograph", "PROCEDURE", "chest radiograph"),
]


@pytest.fixture(scope="session")
def tiny_nlp() -> Language:
    return build_test_pipeline(TINY_TERMS)
