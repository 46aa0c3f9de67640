"""The baseline: medspaCy's default pipeline (its tokenizer, PyRuSH, TargetMatcher, ConText with
its default rules) given the same target terms as our compiled lexicon."""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from knowledge.nlp.lexicon import CompiledLexicon


def build_baseline(lexicon: CompiledLexicon) -> Language:
    """``medspacy.load()`` plus one TargetRule per lexicon term (lower-case phrase or exact tokens)."""
    from knowledge.nlp.pipeline import silence_medspacy

    silence_medspacy()
    import medspacy
    from medspacy.ner import TargetRule

    nlp = medspacy.load()
    rules = [
        TargetRule(" ".join(key), lexicon.concepts[cid].label) for key, cid in lexicon.lower.items()
    ]
    rules += [
        TargetRule(" ".join(key), lexicon.concepts[cid].label, pattern=[{"TEXT": t} for t in key])
        for key, cid in lexicon.exact.items()
    ]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    measurement = [
        {"LIKE_NUM": True},
        {"LOWER": {"IN": ["x", "by"]}, "OP": "?"},
        {"LIKE_NUM": True, "OP": "?"},
        {"LOWER": {"IN": ["mm", "cm", "ml", "cc", "hu", "mmhg", "%"]}},
    ]
    nlp.get_pipe("medspacy_target_matcher").add(
        [TargetRule("measurement", "MEASUREMENT", pattern=measurement)]
    )
    return nlp


def baseline_entities(doc: Doc) -> list[dict[str, Any]]:
    out = []
    for e in doc.ents:
        out.append(
            {
                "text": e.text,
                "label": e.label_,
                "start": e.start_char,
                "end": e.end_char,
                "negated": bool(e._.is_negated),
                "uncertain": bool(e._.is_uncertain or e._.is_hypothetical),
                "historical": bool(e._.is_historical),
                "family": bool(e._.is_family),
                "section": None,
                "normalized": e.text.lower(),
                "code": None,
            }
        )
    return out
