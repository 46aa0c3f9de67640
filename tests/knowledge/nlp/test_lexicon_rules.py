from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from knowledge.nlp import lexicon as lx
from knowledge.nlp.rules import context_rules, expand_pattern, section_rules, validate_context_rule

TOK = spacy.blank("en").tokenizer


def test_radiology_lexicon_parses_with_valid_labels() -> None:
    terms = lx.read_radiology()
    assert len(terms) > 1000
    assert {t.concept.label for t in terms} <= set(lx.LABELS)
    by_text = {t.text.lower(): t for t in terms}
    assert by_text["effusions"].concept.normalized == "pleural effusion"  # automatic plural
    assert by_text["cough"].concept.normalized == "cough"  # "*" concepts
    ptx = [t for t in terms if t.text == "PTX"]
    assert ptx and ptx[0].case_sensitive and ptx[0].concept.normalized == "pneumothorax"


def test_icd_titles_are_cut_or_skipped() -> None:
    assert lx.icd_title("Pleural effusion, not elsewhere classified") == "Pleural effusion"
    assert lx.icd_title("Pneumonia, unspecified organism") == "Pneumonia"
    assert lx.icd_title("Other specified disorders of pleura") is None
    assert (
        lx.icd_title("Acute upper respiratory infection of multiple and unspecified sites") is None
    )


def test_compile_prefers_earlier_source_and_borrows_codes() -> None:
    rad = lx.Concept("FINDING", "pleural effusion", None, "radiology")
    hpo = lx.Concept("FINDING", "Pleural effusion", "HP:0002202", "hpo")
    drug = lx.Concept("MEDICATION", "the", "X", "drugs")
    terms = [
        lx.Term("pleural effusion", rad),
        lx.Term("Pleural effusion", hpo),
        lx.Term("the", drug),
        lx.Term("PE", rad, case_sensitive=True),
    ]
    lex = lx.compile_lexicon(TOK, (), terms=terms, key="t")
    cid = lex.lower[("pleural", "effusion")]
    assert lex.concepts[cid].source == "radiology" and lex.concepts[cid].code == "HP:0002202"
    assert ("the",) not in lex.lower  # stop word from a big vocabulary
    assert ("PE",) in lex.exact and ("pe",) not in lex.lower
    assert lex.lower_lengths["pleural"] == (2,)


def test_compiled_lexicon_is_cached_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lx.load_or_compile(TOK, ("radiology",), tmp_path)
    assert list(tmp_path.glob("lexicon-*.sqlite"))

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("recompiled although a current cache exists")

    monkeypatch.setattr(lx, "compile_lexicon", boom)
    second = lx.load_or_compile(TOK, ("radiology",), tmp_path)
    assert second.key == first.key and len(second) == len(first)


def test_unknown_source_is_an_error() -> None:
    with pytest.raises(ValueError, match="valid"):
        lx.compile_lexicon(TOK, ("umls",))


def test_expand_pattern() -> None:
    pat = [{"LOWER": {"IN": ["is", "are"]}}, {"LOWER": "not", "OP": "?"}, {"LOWER": "seen"}]
    assert expand_pattern(pat) == ["are not seen", "are seen", "is not seen", "is seen"]
    assert expand_pattern([{"LOWER": "no"}, {"POS": "NOUN"}]) is None
    assert expand_pattern([{"LOWER": "x", "OP": "*"}]) is None


def test_shipped_rules_load() -> None:
    rules = context_rules(lx.DATA_DIR / "context_rules.json")
    assert len(rules) > 150
    assert {r.category for r in rules} >= {
        "NEGATED_EXISTENCE",
        "POSSIBLE_EXISTENCE",
        "HYPOTHETICAL",
        "HISTORICAL",
        "FAMILY",
    }
    assert len(section_rules(lx.DATA_DIR / "section_rules.json")) > 40


def test_context_rule_validation_names_valid_values() -> None:
    with pytest.raises(ValueError, match="category must be one of"):
        validate_context_rule({"literal": "no", "category": "NEG", "direction": "FORWARD"})
    with pytest.raises(ValueError, match="unknown ConText rule key"):
        validate_context_rule(
            {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD", "scope": 3}
        )
