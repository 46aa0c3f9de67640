"""What is a clinical word and what could be a person or a place: the checks PHI detection
(``assistant/policy/phi.py``) applies to what named-entity recognition and the weaker rules
find, so that eponyms, drugs, roles and heading words are not redacted as names or places.

- ``clinical_term``: a span inside a clinical term (eponyms and drugs, "X disease", "Crohn's
  disease", MeSH disease words, abbreviations, a word written as a medicine) is not an
  identifier; lists in ``assistant/data/phi_clinical_terms.yaml``, drug names from
  drug-named-entity-recognition's dictionary;
- ``trim_clinical``: a name span loses an eponym at its end;
- the rules' ``person``, ``place`` and ``header_person`` checks (``validate:`` in
  ``assistant/data/phi_rules.yaml``), which read the name vocabulary (``phi_context``).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.policy.phi_checks import VALIDATORS
from assistant.policy.phi_terms import in_eponym_term, only_clinical_words

log = logging.getLogger(__name__)


def _data(name: str) -> Any:
    from assistant.policy.phi import _data as load

    return load(name)


@dataclass(frozen=True)
class _Clinical:
    before: tuple[tuple[str, ...], ...]
    """heads written before the eponym ("maladie de", "Morbus"), folded and tokenized"""
    words: frozenset[str]
    drugs: frozenset[str]
    heads: frozenset[str]
    after: re.Pattern[str]
    not_places: frozenset[str]
    roles: frozenset[str]


_LINKS = (
    "(?:has|had|have|is|was|were|with|and|or|of|the|a|an|who|which|that|for|from|to|in|on|"
    "presents|presented|developed|develops|reports|reported|denies|denied|says|said|got|gets)"
)


@lru_cache(maxsize=1)
def clinical_lists() -> _Clinical:
    data = _data("phi_clinical_terms.yaml")
    drugs = _drug_names()
    words = {_fold(w) for w in data["eponyms"] + data["other"]} | drugs
    heads = "|".join(re.escape(h) for h in data["heads"])
    # up to two more words of the term between ("Guillain Barre syndrome", "Perls iron stain"),
    # never a verb or a function word ("Jake has Asperger syndrome" is a person)
    after = re.compile(
        rf"^(?:'s|s'|')?(?:[\s-]+(?!{_LINKS}\b)[A-Za-z]+){{0,2}}?[\s-]+(?:{heads})\b", re.I
    )
    before = {tuple(t for t in _TOKEN.split(_fold(h)) if t) for h in data["heads_before"]}
    return _Clinical(
        tuple(sorted(before, key=len, reverse=True)),
        frozenset(words),
        frozenset(drugs),
        frozenset(h.lower() for h in data["heads"]),
        after,
        frozenset(p.lower() for p in data["not_places"]),
        frozenset(_fold(r) for r in data["roles"]),
    )


def _fold(word: str) -> str:
    """Lower case without accents: "Sjögren" and "Barré" as the lists write them."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(ch)
    )


def _drug_names() -> set[str]:
    """Single-word drug names and brands from drug-named-entity-recognition (empty if absent)."""
    import bz2
    import pickle

    try:
        # the package's directory, not the package: its import builds a search index (~4 s)
        spec = importlib.util.find_spec("drug_named_entity_recognition")
        folder = (spec.submodule_search_locations or [""])[0] if spec else ""
        path = Path(folder) / "drug_ner_dictionary.pkl.bz2"
        with bz2.open(path, "rb") as fh:
            data = pickle.load(fh)  # the package's own data file
    except Exception as exc:  # pragma: no cover - package missing
        log.info("drug names unavailable for PHI filtering: %s", exc)
        return set()
    return {v for v in data["drug_variant_to_canonical"] if " " not in v and len(v) > 3}


_TOKEN = re.compile(r"[^\w]+|_")
_ROLE_SUFFIX = re.compile(r"..(?:ologist|iatrist|ician|therapist|ographer)$")
"""Specialties are roles, not names: "Consultant Urologist", "Paediatrician"."""
_MEDICAL_WORD = re.compile(
    r"..(?:megaly|itis|osis|penia|cardia|pnoea|pnea|algia|ectomy|otomy|ostomy|plasty|scopy"
    r"|pathy|plegia|rrhoea|rrhea|trophy|ectasis|ectasia|aemia)$"
)
"""Greek and Latin clinical suffixes no name or place ends with ("Cardiomegaly", "Dyspnea")."""


def clinical_term(text: str, start: int, end: int, kind: str = "NAME") -> bool:
    """``text[start:end]`` (a name or place found by NER, or by a weak rule) is not an
    identifier: part of a clinical term (eponyms and drugs, "X disease", "Crohn's disease"), a
    code with digits, a scrap of two letters, or (places) a country or an abbreviation."""
    c = clinical_lists()
    span = text[start:end]
    if any(ch.isdigit() for ch in span) or len(span.strip()) <= 2:
        return True
    tokens = [t for t in _TOKEN.split(_fold(span)) if t]
    if not tokens:
        return True
    if only_clinical_words(span) and not any(_a_name(t) for t in tokens):
        return True  # "Narcolepsy", "Myasthenia Gravis", "anorexia nervosa"
    if in_eponym_term(text, start, end) or _after_foreign_head(c, text, start, tokens):
        return True  # "Fournier's gangrene", "ziekte van Graves", "Morbus Bechterew"
    if kind == "NAME" and _abbreviation(span.strip()) and not _a_name(span.strip()):
        return True  # "KUB", "NOF", "HbSS", "EtOH"
    if len(tokens) <= 2 and _medicine_context(text, start, end) and not _a_name(tokens[0]):
        return True  # "on Pabrinex.", "Sando-K 2 tabs", "started Zorbex 10 mg"
    if any(t in c.heads for t in tokens):
        return True
    if any(_drug(c, t) and not _a_name(t) for t in tokens):  # "Start Jardiance", "infliximab due"
        return True
    known = [t in c.words or t.rstrip("s") in c.words or _role(c, t) for t in tokens]
    if all(known) or all(_MEDICAL_WORD.search(t) for t in tokens):
        return True  # "Guillain-Barré", "Known Crohn", "Right Bell", "Consultant Urologist"
    rest = text[end : end + 40]
    if len(tokens) > 1 and _direct_head(c, rest):  # "John Cunningham virus"
        return True
    if len(tokens) == 1:
        if _POSSESSIVE.match(rest):  # "Crohn's disease", but "Hamish's peak flow"
            if _possessive_head().match(rest):
                return True
        elif c.after.match(rest):  # "Hodgkin lymphoma", "Lyme disease"
            return True
    if kind == "ADDRESS":
        if len(span) <= 6 and sum(ch.isupper() for ch in span) >= 2:  # PrEP, NSTEMI, HbA1c
            return True
        plain = span.lower().strip(". ")
        if plain in c.not_places or len(plain) <= 3 or span.isupper() or span.islower():
            return True
    return False


def _after_foreign_head(c: _Clinical, text: str, start: int, tokens: list[str]) -> bool:
    """An eponym after a head written before it ("ziekte van Graves", "maladie de Basedow",
    "Morbus Bechterew"), the head inside the span or just before it."""
    before = [t for t in _TOKEN.split(_fold(text[max(0, start - 30) : start])) if t]
    words = before + tokens
    for head in c.before:
        n = len(head)
        if tuple(tokens[:n]) == head and len(tokens) > n:
            return True
        if len(before) >= n and tuple(before[-n:]) == head:
            return True
        if (
            len(before) >= n - 1
            and n > 1
            and tuple(words[len(before) - n + 1 : len(before) + 1]) == head
        ):
            return True  # the span starts inside the head
    return False


_DOSE_AFTER = re.compile(
    r"^(?:-?[A-Za-z]?\d*)?\s*\(?\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|units?|iu|mmol|"
    r"%|tabs?|tablets?|caps?|capsules?|puffs?|sachets?|drops?|patch(?:es)?|vials?|amps?)\b",
    re.I,
)
_GIVEN_BEFORE = re.compile(
    r"\b(?:on|start|started|starting|stop|stopped|stopping|taking|takes|took|inc|incl|including|"
    r"increase|increased|reduce|reduced|prescribed|prescribe|given|give|dose of|course of|"
    r"switch(?:ed)? to|changed to|plus)\s+$",
    re.I,
)


def _abbreviation(word: str) -> bool:
    """A clinical abbreviation, not a name: one word of at most five letters, all capitals
    ("KUB", "NOF") or a capital after a small letter ("HbSS", "EtOH", "FeNO")."""
    if not word.isalpha() or len(word) > 5:
        return False
    return word.isupper() or bool(re.search(r"[a-z][A-Z]", word))


def _medicine_context(text: str, start: int, end: int) -> bool:
    """A word written as a medicine: a dose right after it ("Sando-K 2 tabs", "Zorbex 10 mg"),
    or a prescribing verb right before it and no possessive after ("on Pabrinex", "inc Adcal")."""
    if _DOSE_AFTER.match(text[end : end + 30]):
        return True
    return bool(_GIVEN_BEFORE.search(text[max(0, start - 20) : start])) and not re.match(
        r"^(?:'s|’s|s')", text[end : end + 3]
    )


def _drug(c: _Clinical, token: str) -> bool:
    """A drug name, also as German, Dutch and Nordic spellings write it without the final "e"
    ("Hydrocortison", "Prednisolon")."""
    return token in c.drugs or (len(token) > 5 and token + "e" in c.drugs)


def _role(c: _Clinical, token: str) -> bool:
    return token in c.roles or bool(_ROLE_SUFFIX.search(token))


_POSSESSIVE = re.compile(r"^(?:'s|s'|’s)(?!\w)")


def _direct_head(c: _Clinical, rest: str) -> bool:
    m = re.match(r"^[\s-]+([A-Za-z]+)", rest)
    return m is not None and m.group(1).lower() in c.heads


def _a_name(word: str) -> bool:
    """A word the name vocabulary knows (when it is loaded): "Allegra" is a drug and a name."""
    from assistant.policy import phi_context

    lex = phi_context.loaded_lexicon()
    return lex is not None and lex.known(word)


@lru_cache(maxsize=1)
def _possessive_head() -> re.Pattern[str]:
    """ "Crohn's disease": a possessive directly followed by a head noun."""
    c = clinical_lists()
    heads = "|".join(re.escape(h) for h in sorted(c.heads))
    return re.compile(rf"^(?:'s|s'|’s)\s+(?:{heads})\b", re.I)


def trim_clinical(text: str, start: int, end: int) -> tuple[int, int]:
    """A name span with a trailing eponym before a head noun ("Kofi Mensah Kaposi" before
    "sarcoma"), or ending inside a clinical term named after a person ("Li Na Chen reports
    Sjögren" before "'s syndrome"), loses the eponym."""
    c = clinical_lists()
    while True:
        m = re.search(r"\s+([^\W\d_][\w'’-]*)$", text[start:end])
        if m and in_eponym_term(text, start + m.start(1), end):
            end = start + m.start()
            continue
        m = re.search(r"[\s-]+([A-Za-z]+)$", text[start:end])
        if not m or m.group(1).lower() not in c.words or not c.after.match(text[end : end + 40]):
            return start, end
        end = start + m.start()


# --- the rules' checks on words ------------------------------------------------------------
def _person_words(text: str) -> bool:
    """Every word of ``text`` could be a name: one the name vocabulary knows, or no English
    word (False while the vocabulary is not loaded: a rule with this check then stays off)."""
    from assistant.policy import phi_context

    lex = phi_context.loaded_lexicon()
    words = [w for w in re.split(r"[\s'’-]+", text) if len(w) > 1]
    return (
        lex is not None
        and bool(words)
        and all(not lex.blocked(w) and (lex.known(w) or not lex.is_english(w)) for w in words)
    )


def _place_words(text: str) -> bool:
    """No word of ``text`` is an English verb, adjective, adverb or function word ("Wien",
    "Antwerpen", not "Review" or "Due"; WordNet's nouns hold the towns themselves); False while
    the vocabulary is not loaded."""
    from assistant.policy import phi_context

    lex = phi_context.loaded_lexicon()
    words = [w for w in re.split(r"[\s'’-]+", text) if len(w) > 1]
    return (
        lex is not None
        and bool(words)
        and not any(lex.is_descriptive(w) or lex.blocked(w) for w in words)
    )


def _header_person(text: str) -> bool:
    """A name as a record header writes it before an identifier ("Eilidh MacLeod, [ID]"): no
    word an English verb, adjective or adverb ("Discharge Summary") or a function word, none a
    clinical head noun or role ("Crohn's Disease", "Consultant Cardiologist"), none in capitals
    ("DOB"), two words or more or initials and a word, and one word a known name or no English
    word (WordNet's nouns hold some surnames: "MacLeod")."""
    from assistant.policy import phi_context

    lex = phi_context.loaded_lexicon()
    c = clinical_lists()
    initials = re.match(r"(?:[A-Z]\.)+", text) is not None
    words = [w for w in re.split(r"[\s'’-]+", text.replace(".", " ")) if len(w) > 1]
    return (
        lex is not None
        and (len(words) >= 2 or (initials and len(words) == 1))
        and not any(w.isupper() for w in words)  # "DOB", "Oncology MDT": abbreviations
        and not any(lex.is_descriptive(w) or lex.blocked(w) for w in words)
        and not any(_fold(w) in c.heads or _role(c, _fold(w)) for w in words)
        and any(lex.known(w) or not lex.is_english(w) for w in words)
    )


VALIDATORS["person"] = _person_words
VALIDATORS["header_person"] = _header_person
VALIDATORS["place"] = _place_words


VALIDATORS["person"] = _person_words
VALIDATORS["place"] = _place_words
VALIDATORS["header_person"] = _header_person
