"""Clinical report understanding: a spaCy + medspaCy + scispaCy pipeline over offline lexicons.

nlp = load_pipeline(settings)              # once per process (compiled lexicon cached on disk)
result = analyse(nlp, report_text)         # {"entities": [...], "summary": "Positive: …", ...}
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.importing import explicit_spacy_factories, import_medspacy

import_medspacy()  # before the pipeline imports them: spaCy without torch, medspaCy without NLTK

from knowledge.nlp.pipeline import (  # noqa: E402
    DEFAULT_CONFIG,
    PipelineConfig,
    analyse,
    build_pipeline,
    entities,
    summary,
)

if TYPE_CHECKING:
    from spacy.language import Language

    from assistant.core.config import Settings

__all__ = [
    "DEFAULT_CONFIG",
    "PipelineConfig",
    "analyse",
    "build_pipeline",
    "cache_dir",
    "entities",
    "load_pipeline",
    "summary",
]


def cache_dir(settings: Settings) -> Path:
    """Where the compiled lexicon is cached: ``<models.cache_dir>/nlp``."""
    return Path(settings.models.cache_dir) / "nlp"


def load_pipeline(settings: Settings, config: PipelineConfig = DEFAULT_CONFIG) -> Language:
    """The report pipeline, its lexicon compiled on first use and cached under :func:`cache_dir`."""
    with explicit_spacy_factories():  # not every installed package's spaCy factories
        return build_pipeline(config, cache_dir=cache_dir(settings))
