"""Query side of retrieval: tokens and stop words, question frames stripped before search,
and synonym/abbreviation expansion."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

CODE_QUERY = re.compile(r"\b(icd|icd-?10(-?cm)?|code|codes|coding|billing|billable)\b", re.I)

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "he",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "called",
        "call",
        "term",
        "medical",
        "mean",
        "means",
        "meaning",
        "definition",
        "define",
        "tell",
        "about",
        "word",
        "name",
        "known",
        "also",
        "other",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stopwords, with a light plural strip (keeps ICD codes)."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        if len(tok) > 4 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
            tok = tok[:-1]
        out.append(tok)
    return out


_FRAMES = [
    re.compile(p, re.I)
    for p in (
        r"^\s*(?:so\s+)?(?:what|which)(?:'s| is| are)? (?:the )?(?:medical|clinical|proper|"
        r"technical|scientific)? ?(?:term|word|name)s? (?:for|of)\b[:\s]*",
        r"^\s*what (?:do|would) (?:doctors|clinicians|physicians|you) call\b[:\s]*",
        r"^\s*what (?:is|does) it (?:called |mean )?when\b\s*",
        r"^\s*(?:my|our|the) (?:child|son|daughter|baby|infant|kid|patient|husband|wife|"
        r"mother|father|mum|mom|dad) (?:has|had|have)\b\s*",
        r"^\s*(?:i|we) (?:have|has|had|get|keep getting)\b\s*",
        r"[\s.,;:]*(?:what|how) (?:is|are|do you call|would you call) (?:that|this|it|they)"
        r"(?: called| named)?\s*\??\s*$",
        r"[\s.,;:]*what does (?:that|this|it) mean\s*\??\s*$",
    )
]


_CODE_WORDS = (
    r"icd|icd-?10|icd-?10-?cm|10|cm|code|codes|coding|billing|billable|diagnosis|diagnostic"
)
_CODE_FRAMES = [
    re.compile(
        rf"^\s*(?:(?:what|which|is|are|the|a|an|for|of|do|i|we|use|to|{_CODE_WORDS})"
        rf"\b[\s:,-]*)+",
        re.I,
    ),
    re.compile(rf"(?:[\s:,-]*\b(?:{_CODE_WORDS}))+[\s?.]*$", re.I),
]


def strip_frame(query: str, *, code: bool = False) -> str:
    """The query without question boilerplate ("What is the medical term for X?",
    "My child has X. What is that called?") for the dense embedding; never empty.
    ``code``: also the code-lookup words around it ("ICD-10 code for X" -> "X")."""
    out = query
    for frame in (*_FRAMES, *(_CODE_FRAMES if code else ())):
        out = frame.sub(" ", out)
    out = re.sub(r"\s+", " ", out).strip(" ?.,;:")
    return out if len(tokenize(out)) else query


@lru_cache(maxsize=1)
def load_synonyms() -> dict[str, list[str]]:
    """Abbreviations and lay terms -> medical terms (``knowledge/data/kb/synonyms.yaml``)."""
    text = (
        resources.files("knowledge.data.kb").joinpath("synonyms.yaml").read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text) or {}
    return {
        str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in data.items()
    }


class QueryExpander:
    """Adds the expansions of abbreviations and lay phrases found in a query.

    Keys of two characters or fewer, or written in capitals in the list, match case-sensitively
    (``MI``, ``SOB``); others match case-insensitively as whole words or phrases.
    """

    def __init__(
        self,
        synonyms: dict[str, list[str]] | None = None,
        drugs: dict[str, list[str]] | None = None,
    ) -> None:
        self.synonyms = load_synonyms() if synonyms is None else synonyms
        self.drugs = drugs or {}
        self._patterns: list[tuple[re.Pattern[str], list[str]]] = []
        for key, values in self.synonyms.items():
            flags = 0 if (key.isupper() or len(key) <= 2) else re.I
            self._patterns.append(
                (re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w-])", flags), values)
            )

    def expansions(self, query: str) -> list[str]:
        found: list[str] = []
        for pattern, values in self._patterns:
            if pattern.search(query):
                found += [v for v in values if v.lower() not in query.lower()]
        if self.drugs:
            for tok in re.findall(r"[a-z][a-z0-9-]{3,}", query.lower()):
                for generic in self.drugs.get(tok, []):
                    if generic != tok:
                        found.append(generic)
        return list(dict.fromkeys(found))

    def expand(self, query: str) -> str:
        extra = self.expansions(query)
        return f"{query} ({'; '.join(extra)})" if extra else query
