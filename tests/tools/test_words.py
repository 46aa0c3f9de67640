"""The product's one stop-word list: spaCy's, adjusted by a data file that stays honest."""

from __future__ import annotations

import yaml

from tools.words import DATA, STOP_WORDS, spacy_stop_words, stem


def _words(groups: dict) -> set[object]:
    return {w for g in groups.values() for w in g["words"]}


def test_every_adjustment_is_a_string_with_a_reason_and_changes_the_list() -> None:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    spacy = spacy_stop_words()
    for side in ("keep", "add"):
        for name, group in data[side].items():
            assert group["reason"].strip(), name
            assert all(isinstance(w, str) for w in group["words"]), name  # YAML: no -> False
    assert _words(data["keep"]) <= spacy  # kept words are spaCy stop words
    assert not _words(data["add"]) & spacy  # added words are not
    assert {"no", "not", "without", "never", "two", "back"}.isdisjoint(STOP_WORDS)
    assert {"the", "of", "is", "people"} <= STOP_WORDS


def test_the_stemmer_folds_inflections() -> None:
    assert stem("migraines") == stem("migraine")
    assert stem("caused") == stem("causes")
    assert stem("allergies") == "allergy"
    assert stem("illness") == "illness"
