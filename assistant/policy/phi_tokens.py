"""Tokens of the context name finder (``phi_context``) and the word-level checks it makes: a
token's shape (initial, capitalised, upper or lower case), what lies between two tokens, name
particles ("van der", "binti", "a/l"), a nickname in quotes, a first name, a name no vocabulary
lists, a typing slip of an English word."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.policy.phi_vocab import WORD, Lexicon, fold, plain

_NOT_POSSESSIVE = frozenset(
    ["it", "that", "what", "there", "here", "who", "he", "she", "let", "name", "how", "where"]
)
PARTICLES = frozenset(
    [
        "von",
        "van",
        "de",
        "da",
        "del",
        "della",
        "der",
        "den",
        "di",
        "du",
        "le",
        "la",
        "al",
        "el",
        "bin",
        "ibn",
        "ben",
        "bint",
        "binti",
        "binte",
        "bte",
        "bt",
        "ap",
        "mac",
        "ní",
        "nic",
        "uí",
        "mhic",
        "st",
        "dos",
        "das",
        "do",
    ]
)


# --- tokens ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tok:
    start: int
    end: int
    text: str
    gap: str
    """the characters between the previous token and this one"""
    poss: bool = False
    """followed by a possessive 's (not part of ``text``)"""

    @property
    def word(self) -> str:
        return self.text.rstrip(".") if not self.initial else self.text

    @property
    def initial(self) -> bool:
        return len(self.text) == 2 and self.text[0].isupper() and self.text[1] == "."

    @property
    def title(self) -> bool:
        w = self.word
        return w[:1].isupper() and not w.isupper() and w[1:2].islower()

    @property
    def upper(self) -> bool:
        return len(self.word) > 1 and self.word.isupper()

    @property
    def lower(self) -> bool:
        return self.word.islower()


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    last = 0
    for m in WORD.finditer(text):
        word = m.group()
        end = m.end()
        if word.endswith(".") and not (len(word) == 2 and word[0].isupper()):
            end -= 1  # a full stop after a word ends the sentence, not the word
            word = word[:-1]
        poss = word.lower().endswith(("'s", "’s")) and len(word) > 3
        if poss and word[:-2].lower() not in _NOT_POSSESSIVE:
            word, end = word[:-2], end - 2
        else:
            poss = False
        out.append(Tok(m.start(), end, word, text[last : m.start()], poss))
        last = end
    return out


def sentence_start(tok: Tok, index: int) -> bool:
    return index == 0 or bool(re.search(r"[.!?:;\n•*\-–—(\[]\s*$", tok.gap)) or "\n" in tok.gap


def signature(toks: list[Tok], i: int) -> bool:
    """Token ``i`` closes the message: nothing but punctuation, a bracket or a placeholder
    after it."""
    if i + 1 >= len(toks):
        return True
    nxt = toks[i + 1]
    return bool(re.match(r"\s*[(\[]", nxt.gap)) or ("\n" in nxt.gap)


def adjacent(tok: Tok) -> bool:
    """Only spaces (no punctuation) between this token and the one before."""
    return tok.gap.strip() == "" and "\n" not in tok.gap


DASH_GAP = r"[\s.!?,;:)]*[-–—~]+\s*"
"""Between a message and the name signing it off: a dash, maybe after the sentence's end."""
CHAT_VERBS = frozenset(
    [
        "is",
        "was",
        "has",
        "had",
        "turned",
        "keeps",
        "kept",
        "cant",
        "can't",
        "wont",
        "won't",
        "isnt",
        "isn't",
        "hasnt",
        "hasn't",
        "doesnt",
        "doesn't",
        "woke",
        "started",
        "got",
    ]
)
_SLASH_PARTICLES = frozenset(["a/l", "a/p", "s/o", "d/o", "w/o"])
"""Malaysian and Singaporean name particles written with a slash: anak lelaki / anak perempuan
(son / daughter of), son of, daughter of, wife of ("Rajesh a/l Subramaniam")."""
GAELIC = re.compile(r"(?:Mac|Mc|Mhic|Nic|Ni|Ó|O['’]|Fitz)[A-Z][a-zà-ÿ]{2,}")
"""A Gaelic or Norman surname by its shape ("MacLeod", "McAllister", "O'Neill", "FitzGerald")."""


def slash_particle(toks: list[Tok], j: int) -> bool:
    """Tokens ``j`` and ``j + 1`` are a particle written with a slash ("a/l", "s/o")."""
    if j + 2 >= len(toks) or toks[j + 1].gap != "/":
        return False
    return f"{toks[j].word}/{toks[j + 1].word}".lower() in _SLASH_PARTICLES


_OPEN_QUOTE = re.compile(r"\s+(?:\(\s*)?[\"'“‘]")
_CLOSE_QUOTE = re.compile(r"[\"'”’]\)?\s+")


def nickname(toks: list[Tok], j: int) -> int:
    """How many tokens from ``j`` are a nickname in quotes between a given name and a surname
    ("Eleanor 'Nell' Fitzgerald", 'Margaret "Peggy" Olsen', 'Constance (aka "Connie")
    Abernethy-Lowe'); 0 when there is none."""
    k = j
    if plain(toks[j].word) in ("aka", "a.k.a") and re.fullmatch(r"\s+\(\s*", toks[j].gap):
        k = j + 1
        if k >= len(toks) or not re.fullmatch(r"\s*[\"'“‘]", toks[k].gap):
            return 0
    elif not _OPEN_QUOTE.fullmatch(toks[j].gap):
        return 0
    if k + 1 >= len(toks) or not toks[k].title or not toks[k + 1].title:
        return 0
    return k - j + 1 if _CLOSE_QUOTE.fullmatch(toks[k + 1].gap) else 0


def first_name(lex: Lexicon, word: str) -> bool:
    """A first name, or a double first name whose parts all are ("lily-rose", "marie-eve")."""
    word = fold(word)
    parts = [p for p in word.split("-") if p]
    return word in lex.first or (len(parts) > 1 and all(p in lex.first for p in parts))


def unlisted_name(lex: Lexicon, word: str) -> bool:
    """A word that could be a name no vocabulary lists: letters only, no English word, no
    function word, no contraction written without its apostrophe ("shes", "thats")."""
    w = plain(word)
    return (
        w.isalpha()
        and len(w) >= 3
        and not lex.is_english(w)
        and not lex.blocked(w)
        and not (w.endswith("s") and w[:-1] in lex.stop)
        and not w.endswith(("nt", "ve", "ll"))
        and not _misspelt_english(lex, w)
    )


def _misspelt_english(lex: Lexicon, w: str) -> bool:
    """One letter away from an English word or a function word ("realy", "tomorow", "wiht"):
    a typing slip, not a name."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(w)
    return any(len(e) > 2 and (e in lex.english or e in lex.stop) for e in edits)
