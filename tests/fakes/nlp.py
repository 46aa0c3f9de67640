"""A report pipeline over a tiny in-memory lexicon, for unit tests (no packaged lexicons)."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.language import Language

from knowledge.nlp.lexicon import compile_lexicon
from knowledge.nlp.pipeline import DEFAULT_CONFIG, PipelineConfig, build_pipeline


def build_test_pipeline(
    terms: Iterable[tuple[str, str, str]], config: PipelineConfig = DEFAULT_CONFIG
) -> Language:
    """A pipeline over a tiny in-memory lexicon ``(text, label, normalized)`` (unit tests)."""
    import spacy

    from knowledge.nlp.lexicon import Concept, Term

    items = [Term(t, Concept(label, norm, None, "radiology")) for t, label, norm in terms]
    lex = compile_lexicon(
        spacy.blank("en").tokenizer, (), terms=items, data_dir=config.data_dir, key="test"
    )
    return build_pipeline(config, lexicon=lex)
