"""Assemble the report pipeline from a :class:`PipelineConfig` and turn docs into contract entities.

    nlp = build_pipeline(DEFAULT_CONFIG, cache_dir=settings.models.cache_dir / "nlp")
    result = analyse(nlp, "FINDINGS: Small left pleural effusion. No pneumothorax.")

Order of components (``spacy.blank("en")`` tokenizer):
sentences (rule splitter, or PyRuSH) -> lexicon matcher -> scispaCy AbbreviationDetector ->
abbreviation linking -> medspaCy Sectionizer -> medspaCy ConText -> attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from knowledge.nlp.lexicon import (
    ALL_SOURCES,
    DATA_DIR,
    CompiledLexicon,
    load_or_compile,
)
from knowledge.nlp.rules import context_rules, section_rules

PIPELINE_NAME = "clinassist_ner"
PIPELINE_VERSION = "1.1"


@dataclass(frozen=True)
class PipelineConfig:
    """What the pipeline is built from. Unknown keys are rejected by :func:`config_from_dict`."""

    sentencizer: Literal["rules", "pyrush"] = "rules"
    lexicon_sources: tuple[str, ...] = ALL_SOURCES
    abbreviations: bool = True
    sections: bool = True
    context: bool = True
    attributes: bool = True
    context_rules: str = "context_rules.json"
    section_rules: str = "section_rules.json"
    section_attrs: dict[str, dict[str, bool]] = field(
        default_factory=lambda: {
            "family_history": {"is_family": True},
            "past_medical_history": {"is_historical": True},
        }
    )
    data_dir: Path = DATA_DIR


DEFAULT_CONFIG = PipelineConfig()


def config_from_dict(values: dict[str, Any]) -> PipelineConfig:
    """A config from plain values; unknown keys are an error that lists the valid ones."""
    valid = {f.name for f in fields(PipelineConfig)}
    unknown = sorted(set(values) - valid)
    if unknown:
        raise ValueError(
            f"unknown NER pipeline key(s) {unknown}: valid keys: {', '.join(sorted(valid))}"
        )
    if "lexicon_sources" in values:
        values = {**values, "lexicon_sources": tuple(values["lexicon_sources"])}
    return replace(DEFAULT_CONFIG, **values)


def silence_medspacy() -> None:
    """medspaCy logs through loguru at DEBUG on import: keep it quiet."""
    from loguru import logger

    logger.remove()


def build_pipeline(
    config: PipelineConfig = DEFAULT_CONFIG,
    *,
    cache_dir: Path | None = None,
    lexicon: CompiledLexicon | None = None,
) -> Language:
    """The report pipeline. ``cache_dir`` holds the compiled lexicon (built on first use)."""
    import spacy

    silence_medspacy()
    import knowledge.nlp.components  # noqa: F401 - registers the factories

    nlp = spacy.blank("en")
    if config.sentencizer == "pyrush":
        import medspacy  # noqa: F401 - registers medspacy_pyrush

        nlp.add_pipe("medspacy_pyrush")
    else:
        nlp.add_pipe("clinassist_sentences_v1", name="sentences")
    matcher = nlp.add_pipe("clinassist_lexicon_v1", name="lexicon")
    if lexicon is None:
        lexicon = load_or_compile(
            nlp.tokenizer, config.lexicon_sources, cache_dir, data_dir=config.data_dir
        )
    matcher.set_lexicon(lexicon)  # type: ignore[attr-defined]
    if config.abbreviations:
        from scispacy.abbreviation import AbbreviationDetector  # noqa: F401 - registers it

        nlp.add_pipe("abbreviation_detector")
        nlp.add_pipe("clinassist_abbreviations_v1", name="abbreviation_links")
    if config.sections:
        from medspacy.section_detection import Sectionizer

        sectionizer = nlp.add_pipe(
            "medspacy_sectionizer", config={"rules": None, "span_attrs": config.section_attrs}
        )
        assert isinstance(sectionizer, Sectionizer)
        sectionizer.add(section_rules(config.data_dir / config.section_rules))
    if config.context:
        context = nlp.add_pipe("medspacy_context", config={"rules": None})
        context.add(context_rules(config.data_dir / config.context_rules))  # type: ignore[attr-defined]
    if config.attributes:
        nlp.add_pipe("clinassist_attributes_v1", name="attributes")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["lexicon"] = {"key": lexicon.key, "terms": len(lexicon), "by_source": lexicon.stats}
    return nlp


# ---------------------------------------------------------------- doc -> contract


CONTEXT_FLAGS = ("is_negated", "is_uncertain", "is_hypothetical", "is_historical", "is_family")
# Sections whose content is one sentence ("Comparison: none.", "Technique: PA and lateral."): a
# sentence after it belongs to no section, so findings written after a stray "Comparison:" or
# "Technique:" heading (a heading without a section body) still count as findings.
ONE_SENTENCE_SECTIONS = frozenset({"comparison", "technique"})


def section_of(span: Span) -> str | None:
    """The span's section category (read once from its first token: the span-level getters of
    medspaCy recompute it per attribute)."""
    if not Token.has_extension("section"):
        return None
    section = span[0]._.section
    if section is None or not section.category:
        return None
    cat = str(section.category)
    if cat in ONE_SENTENCE_SECTIONS:
        body_start = section.body_span[0]
        if body_start < len(span.doc) and span.start >= span.doc[body_start].sent.end:
            return None
    return cat


def entity_dict(span: Span) -> dict[str, Any]:
    """One entity in the contract's shape (plus attributes)."""
    u = span._  # one Underscore per span: each ``span._`` builds a new one
    if Span.has_extension("is_negated"):
        negated, uncertain, hypothetical, historical, family = (
            bool(getattr(u, name)) for name in CONTEXT_FLAGS
        )
    else:
        negated = uncertain = hypothetical = historical = family = False
    out: dict[str, Any] = {
        "text": span.text,
        "label": span.label_,
        "start": span.start_char,
        "end": span.end_char,
        "negated": negated,
        "uncertain": uncertain or hypothetical,
        "historical": historical,
        "family": family,
        "section": section_of(span),
        "normalized": u.ca_normalized or span.text.lower(),
        "code": u.ca_code,
        "source": u.ca_source,
    }
    for key in ("laterality", "severity", "change", "size", "expanded"):
        value = getattr(u, f"ca_{key}")
        if value:
            out[key] = value
    if out["uncertain"] and not negated:
        hedges = _hedges(span)
        if hedges:
            out["hedges"] = hedges
    return out


def _hedges(span: Span) -> list[str]:
    """The ConText triggers that make a span uncertain ("likely", "cannot exclude", ...): its own
    modifiers, plus uncertainty triggers earlier in its sentence whose scope another trigger of
    the same category cut short (in "may represent atelectasis versus edema", "versus" cuts the
    scope of "may represent" before "edema")."""
    if not span.has_extension("modifiers"):
        return []
    kinds = ("POSSIBLE_EXISTENCE", "HYPOTHETICAL")
    found = [str(m.rule.literal).lower() for m in span._.modifiers if m.category in kinds]
    graph = span.doc._.context_graph if span.doc.has_extension("context_graph") else None
    if found and graph is not None:
        sent = span.sent
        for mod in graph.modifiers:
            start, end = mod.modifier_span
            if mod.category not in kinds or start < sent.start or end > sent.end:
                continue
            direction = mod.direction.upper()
            if (direction in ("FORWARD", "BIDIRECTIONAL") and end <= span.start) or (
                direction in ("BACKWARD", "BIDIRECTIONAL") and start >= span.end
            ):
                found.append(str(mod.rule.literal).lower())
    return list(dict.fromkeys(found))


def entities(doc: Doc) -> list[dict[str, Any]]:
    return [entity_dict(e) for e in doc.ents]


def _phrase(ent: dict[str, Any]) -> str:
    words = [ent.get("severity"), ent.get("laterality"), ent["normalized"]]
    text = " ".join(w for w in words if w)
    extra = [x for x in (ent.get("size"), ent.get("change")) if x]
    return text + (f" ({', '.join(extra)})" if extra else "")


def summary(ents: list[dict[str, Any]]) -> str:
    """ "Positive: … / Negated: … / Uncertain: …" over findings (devices listed when present)."""
    groups: dict[str, list[str]] = {
        "Positive": [],
        "Negated": [],
        "Uncertain": [],
        "Historical": [],
        "Devices": [],
    }
    for ent in ents:
        if ent["label"] == "DEVICE":
            if not ent["negated"]:
                groups["Devices"].append(ent["normalized"])
            continue
        if ent["label"] != "FINDING" or ent["family"]:
            continue
        key = (
            "Negated"
            if ent["negated"]
            else "Uncertain"
            if ent["uncertain"]
            else "Historical"
            if ent["historical"]
            else "Positive"
        )
        groups[key].append(_phrase(ent) if key == "Positive" else ent["normalized"])
    parts = []
    for key in ("Positive", "Negated", "Uncertain"):
        items = list(dict.fromkeys(groups[key]))
        parts.append(f"{key}: {', '.join(items) if items else 'none'}")
    for key in ("Historical", "Devices"):
        items = list(dict.fromkeys(groups[key]))
        if items:
            parts.append(f"{key}: {', '.join(items)}")
    return " / ".join(parts)


_WORD = re.compile(r"[A-Za-z]{2,}")
ENGLISH_HINTS = frozenset(
    [
        "the",
        "of",
        "and",
        "is",
        "are",
        "no",
        "there",
        "with",
        "without",
        "in",
        "on",
        "at",
        "to",
        "for",
        "normal",
        "seen",
        "left",
        "right",
        "lung",
        "lungs",
        "heart",
        "effusion",
        "pneumothorax",
        "findings",
        "impression",
        "chest",
        "tube",
        "not",
        "or",
        "a",
        "an",
    ]
)


def looks_english(text: str) -> bool:
    """Cheap check that a text is English prose (a few common words among the first 300)."""
    words = [w.lower() for w in _WORD.findall(text[:5000])][:300]
    if not words:
        return False
    hits = sum(w in ENGLISH_HINTS for w in words)
    return hits >= max(1, len(words) // 25)


def analyse(nlp: Language, text: str) -> dict[str, Any]:
    """Entities, report-level observations, summary and review flags for one report."""
    return result_of(nlp(text), text)


def result_of(doc: Doc, text: str) -> dict[str, Any]:
    """:func:`analyse`'s result for a processed doc (``nlp.pipe`` callers use this)."""
    from knowledge.nlp.observations import observations

    ents = entities(doc)
    reasons: list[str] = []
    if not ents:
        reasons.append("no clinical entities were recognised")
    if not looks_english(text):
        reasons.append("the text does not look like an English report")
    if any(e["uncertain"] and e["label"] == "FINDING" for e in ents):
        reasons.append("some findings are stated with uncertainty")
    return {
        "entities": ents,
        "observations": observations(ents),
        "summary": summary(ents),
        "needs_review": bool(reasons),
        "review_reasons": reasons,
        "sections": sorted({e["section"] for e in ents if e["section"]}),
        "pipeline": f"{PIPELINE_NAME}@{PIPELINE_VERSION}",
    }
