"""The product's one stop-word list and one stemmer (the answer tool and its display gate).

Stop words: spaCy's English list adjusted by ``tools/data/stop_words.yaml`` (which words stay
meaningful in clinical text and why, which generic words are added).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "stop_words.yaml"


def _group_words(groups: dict[str, dict[str, list[str]]]) -> set[str]:
    return {str(w) for group in groups.values() for w in group["words"]}


def spacy_stop_words() -> set[str]:
    """``spacy.lang.en.stop_words.STOP_WORDS``, read from its module file: importing it the
    usual way imports spaCy itself (thinc, torch: seconds), which the answer tool never needs."""
    spec = importlib.util.find_spec("spacy")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("spaCy is not installed: pip install -r requirements.txt")
    path = Path(spec.submodule_search_locations[0]) / "lang" / "en" / "stop_words.py"
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return {str(w) for w in namespace["STOP_WORDS"]}  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return frozenset((spacy_stop_words() - _group_words(data["keep"])) | _group_words(data["add"]))


STOP_WORDS = stop_words()


def stem(word: str) -> str:
    """A light stemmer: migraines/migraine, caused/causes, breathing/breathe meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word
