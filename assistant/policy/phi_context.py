"""Names found by their context and a name vocabulary (the third PHI layer, beside the rules
and Presidio; see ``assistant/policy/phi.py``).

Evidence, strongest first:

- a **cue** before the word (``assistant/data/phi_names.yaml``): a title, a relation ("my
  mum"), a role ("Nurse", "pt"), a naming phrase ("called", "I'm"); after a weak cue ("ask",
  "with", "for") only a word the vocabulary knows;
- a **name vocabulary** (``phi_vocab.py``): first names and surnames from Faker's person
  providers (MIT, every locale, Latin script), read at load time; a first name followed by a surname in the same
  case ("Will Turner", "maria garcia", "JOHN SMITH"), surname-first order ("SMITH, John"),
  a possessive ("Hamish's"), or a capitalised known name that is no English word;
- **lists of people**: "Tom, Lucy and Raj" once one of them is a name;
- **the shape of a name**: particles inside it ("bin", "binti", "a/l", "s/o"), up to two
  capitalised given names no English word before a known first name ("Nakato Sarah Mirembe"),
  a Gaelic or Norman surname after a given name ("Mhairi MacLeod"); in chat, a lower-case
  first name opening a sentence before a verb ("ella is 13 months") and the one word signing a
  message off after a dash ("- summer", "- Maddie").

"English word" means a lemma of spaCy's English lemmatizer tables (WordNet's noun, verb,
adjective and adverb lists, shipped in the spaCy pipeline): "Rose", "Will" and "Bell" are
English words and need a cue or a partner name; "Okafor" and "Siobhan" are not. Function
words are spaCy's stop words. Spans that are clinical terms are dropped by the caller
(``phi.clinical_term``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.policy.phi_vocab import WORD, Lexicon, fold, lexicon, loaded_lexicon, plain

__all__ = ["Lexicon", "NameFinder", "Tok", "finder", "lexicon", "loaded_lexicon", "tokenize"]

_NOT_POSSESSIVE = frozenset(
    ["it", "that", "what", "there", "here", "who", "he", "she", "let", "name", "how", "where"]
)
_PARTICLES = frozenset(
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


def _sentence_start(tok: Tok, index: int) -> bool:
    return index == 0 or bool(re.search(r"[.!?:;\n•*\-–—(\[]\s*$", tok.gap)) or "\n" in tok.gap


def _signature(toks: list[Tok], i: int) -> bool:
    """Token ``i`` closes the message: nothing but punctuation, a bracket or a placeholder
    after it."""
    if i + 1 >= len(toks):
        return True
    nxt = toks[i + 1]
    return bool(re.match(r"\s*[(\[]", nxt.gap)) or ("\n" in nxt.gap)


def _adjacent(tok: Tok) -> bool:
    """Only spaces (no punctuation) between this token and the one before."""
    return tok.gap.strip() == "" and "\n" not in tok.gap


_DASH_GAP = r"[\s.!?,;:)]*[-–—~]+\s*"
"""Between a message and the name signing it off: a dash, maybe after the sentence's end."""
_CHAT_VERBS = frozenset(
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
_GAELIC = re.compile(r"(?:Mac|Mc|Mhic|Nic|Ni|Ó|O['’]|Fitz)[A-Z][a-zà-ÿ]{2,}")
"""A Gaelic or Norman surname by its shape ("MacLeod", "McAllister", "O'Neill", "FitzGerald")."""


def _slash_particle(toks: list[Tok], j: int) -> bool:
    """Tokens ``j`` and ``j + 1`` are a particle written with a slash ("a/l", "s/o")."""
    if j + 2 >= len(toks) or toks[j + 1].gap != "/":
        return False
    return f"{toks[j].word}/{toks[j + 1].word}".lower() in _SLASH_PARTICLES


_OPEN_QUOTE = re.compile(r"\s+(?:\(\s*)?[\"'“‘]")
_CLOSE_QUOTE = re.compile(r"[\"'”’]\)?\s+")


def _nickname(toks: list[Tok], j: int) -> int:
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


def _first_name(lex: Lexicon, word: str) -> bool:
    """A first name, or a double first name whose parts all are ("lily-rose", "marie-eve")."""
    word = fold(word)
    parts = [p for p in word.split("-") if p]
    return word in lex.first or (len(parts) > 1 and all(p in lex.first for p in parts))


def _unlisted_name(lex: Lexicon, word: str) -> bool:
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


# --- the recognizer --------------------------------------------------------------------------
class NameFinder:
    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self._cue_index: dict[str, list[tuple[str, tuple[str, ...]]]] | None = None

    def ordinary(self, span: str) -> bool:
        """Every word of ``span`` is an English word and none is a name the vocabulary knows
        ("Pulmonary", "lung volumes", but not "Rose" or "Will Green")."""
        words = [w for w in re.split(r"[\s'’-]+", span) if len(w) > 1]
        return bool(words) and all(self.lex.is_english(w) and not self.lex.known(w) for w in words)

    def find(self, text: str) -> list[tuple[int, int]]:
        toks = tokenize(text)
        taken = [False] * len(toks)
        spans: list[tuple[int, int]] = []

        def take(i: int, j: int) -> None:
            i = self._given_before(toks, taken, i)
            for k in range(i, j):
                taken[k] = True
            spans.append((toks[i].start, toks[j - 1].end))

        for i in range(len(toks)):
            if taken[i]:
                continue
            cued = self._after_cue(toks, i)
            if cued:
                take(*cued)
                continue
            j = (
                self._pair(toks, i)
                or self._single(toks, i)
                or self._sign_off(toks, i)
                or self._chat_subject(toks, i)
            )
            if j:
                take(i, j)
        self._lists(toks, taken, take)
        return spans

    # a name-shaped word after a cue
    def _cues_ending_in(self, word: str) -> list[tuple[str, tuple[str, ...]]]:
        """The cue phrases (kind, words) whose last word is ``word``, in the order they are
        tried (titles, introductions, relations, roles, naming, patients, address, weak)."""
        index = self._cue_index
        if index is None:
            index = {}
            for kind, phrases in (
                ("title", self.lex.titles),
                ("intro", self.lex.intros),
                ("relation", self.lex.relations),
                ("foreign", self.lex.foreign_relations),
                ("strong", self.lex.strong),
                ("naming", self.lex.naming),
                ("patient", self.lex.patient),
                ("address", self.lex.address),
                ("weak", self.lex.weak),
            ):
                for phrase in phrases:
                    index.setdefault(phrase[-1], []).append((kind, phrase))
            self._cue_index = index
        return index.get(word, [])

    def _cue_strength(self, toks: list[Tok], i: int) -> tuple[str, int] | None:
        if i < 1:
            return None
        last = toks[i - 1]
        for kind, phrase in self._cues_ending_in(plain(last.text) + ("'s" if last.poss else "")):
            n = len(phrase)
            if i < n:
                continue
            words = [plain(t.text) + ("'s" if t.poss else "") for t in toks[i - n : i]]
            if words == list(phrase) and all(_adjacent(t) for t in toks[i - n + 1 : i]):
                if kind == "intro" and not self._clause_start(toks, i - n):
                    kind = "midintro"  # "helo doctor i am wiktoria": a known name only
                gap = toks[i].gap
                if re.fullmatch(r"(?:'s)?\.?\s*[:,(\-–—]?\s*[\"“‘']?", gap) and "\n" not in gap:
                    return kind, n
        return None

    def _clause_start(self, toks: list[Tok], i: int) -> bool:
        """Token ``i`` begins a clause, or follows a greeting ("hi its faith")."""
        if _sentence_start(toks[i], i) or toks[i].gap.strip() in (",", "-", "–", "—"):
            return True
        return plain(toks[i - 1].text) in ("hi", "hey", "hello", "yes", "yeah", "ok", "oh")

    def _after_cue(self, toks: list[Tok], i: int) -> tuple[int, int] | None:
        """(first, end) token indices of a name after a cue; a title is part of the name."""
        cue = self._cue_strength(toks, i)
        if cue is None:
            return None
        kind, n = cue
        if kind == "intro":
            kind = "strong"
        relation = kind == "relation"
        if relation:
            kind = "strong"
        if kind == "foreign":  # "filho Pedro" but not "filho asma, mãe hipertensão"
            w = toks[i].word
            if not _first_name(self.lex, plain(w)) or plain(w) in self.lex.foreign_clinical:
                return None
            kind = "strong"
        if kind == "title":
            kind = "strong"
            start = i - n  # "Dr Sophie Wright", "Mr and Mrs Lindqvist"
            if start >= 2 and plain(toks[start - 1].text) in ("and", "&"):
                before = self._cue_strength(toks, start - 1)
                if before and before[0] == "title":
                    start -= 1 + before[1]
        else:
            start = i
        lex = self.lex
        first = toks[i]
        w = first.word
        if (first.initial and kind == "weak") or (not first.initial and lex.blocked(w)):
            return None
        if kind == "midintro":
            ok = not first.initial and lex.known(w) and not lex.is_descriptive(w)
        elif first.initial:
            ok = True
        elif first.title or first.upper:
            ok = lex.known(w) or (not lex.is_english(w) and not first.upper)
            if kind == "weak" and first.upper:
                ok = lex.known(w) and not lex.is_english(w)
            if kind == "naming":
                ok = lex.known(w)
        elif kind == "strong":
            # after a relation, a lower-case word that is no English word is a name the
            # vocabulary lacks ("son shahid", "mum (harjit)"); after a role, a known name only
            ok = lex.known(w) or (relation and _unlisted_name(lex, w))
        elif kind == "naming" and _signature(toks, i):
            ok = lex.known(w)  # "thanks will (07956 ...)": a sign-off closes the message
        elif kind in ("patient", "address"):
            ok = lex.known(w) and not lex.is_descriptive(w)
        else:  # weak, naming
            ok = lex.known(w) and not lex.is_english(w)
        if not ok:
            return None
        return start, self._extend(toks, i, i + 1, style_of=first)

    def _extend(self, toks: list[Tok], i: int, j: int, style_of: Tok) -> int:
        """More words of the same name: initials, particles, a nickname in quotes, surnames (at
        most 4 words besides the nickname)."""
        lex = self.lex
        after_nickname = False
        while j < len(toks) and j - i < 6:
            nick = 0 if style_of.lower or after_nickname else _nickname(toks, j)
            if nick:  # "Eleanor 'Nell' Fitzgerald": the nickname, then the surname after it
                j += nick
                after_nickname = True
                continue
            if not (after_nickname or _adjacent(toks[j])):
                break
            after_nickname = False
            t = toks[j]
            w = plain(t.word)
            if t.initial and not style_of.lower:
                j += 1
                continue
            if _slash_particle(toks, j) and toks[j + 2].title and _adjacent(toks[j + 2]):
                j += 2  # "Rajesh a/l Subramaniam": the surname after it is read next
                continue
            k = j  # particles, one or more ("van der Linden", "dos Santos")
            while k + 1 < len(toks) and plain(toks[k].word) in _PARTICLES and k - j < 2:
                k += 1
            if k > j and toks[k].title and _adjacent(toks[k]):
                j = k
                continue
            if lex.blocked(w):
                break
            if style_of.initial:
                ok = (t.title or t.upper) and (lex.known(w) or not lex.is_english(w))
            elif style_of.lower:
                ok = t.lower and lex.known(w) and not lex.is_descriptive(w)
            elif style_of.upper:
                ok = t.upper and lex.known(w)
            else:
                ok = t.title and (lex.known(w) or not lex.is_english(w))
            if not ok:
                break
            j += 1
        return j

    # a first name and a surname in the same case, or surname-first
    def _pair(self, toks: list[Tok], i: int) -> int | None:
        lex = self.lex
        if i + 1 >= len(toks):
            return None
        a, b = toks[i], toks[i + 1]
        wa, wb = plain(a.word), plain(b.word)
        k = i + 1  # "Ferdinand von Richter": particles between
        while k + 1 < len(toks) and plain(toks[k].word) in _PARTICLES and _adjacent(toks[k]):
            k += 1
        if k > i + 1 and a.title and _first_name(lex, wa) and toks[k].title and _adjacent(toks[k]):
            wk = plain(toks[k].word)
            if wk in lex.last or not lex.is_english(wk):
                return self._extend(toks, i, k + 1, style_of=a)
        same_case = (a.title and b.title) or (a.upper and b.upper)
        if (
            same_case
            and wa in lex.first
            and wb in lex.last
            and _adjacent(b)
            and (wa in lex.stop or wa in lex.never)
            and not lex.blocked(wb)
            and len(wb) > 2
        ):
            return self._extend(toks, i, i + 2, style_of=a)  # "Will Turner", "APRIL JONES"
        if lex.blocked(wa) or lex.blocked(wb) or a.initial or (b.initial and not a.title):
            return None
        same = (a.title and b.title) or (a.upper and b.upper) or (a.lower and b.lower)
        if _adjacent(b) and same:
            a_first = _first_name(lex, wa) or (a.title and not lex.is_english(wa) and len(wa) > 2)
            b_last = wb in lex.last or (b.title and not lex.is_english(wb) and len(wb) > 2)
            gaelic = a.title and _GAELIC.fullmatch(b.word) is not None  # "Mhairi MacLeod"
            if a.lower:
                a_first = wa in lex.first and not lex.is_descriptive(wa)
                b_last = wb in lex.last and not lex.is_descriptive(wb)
            if (
                a_first
                and (b_last or gaelic)
                and (_first_name(lex, wa) or wb in lex.last or gaelic)
            ):
                return self._extend(toks, i, i + 2, style_of=a)
        # surname-first: "SMITH, John", "Thompson-Reid, Gareth", "Smith J."
        if (
            b.gap.strip() == ","
            and (a.title or a.upper)
            and (b.title or b.upper)
            and lex.known(wa)
            and _first_name(lex, wb)
            and (a.upper or not lex.is_english(wa))
        ):
            return i + 2
        if b.initial and a.title and wa in lex.last and _adjacent(b):
            nxt = toks[i + 2] if i + 2 < len(toks) else None
            if nxt is None or not (_adjacent(nxt) and nxt.title):
                return i + 2
        return None

    # one capitalised known name that is no English word, or a possessive
    def _single(self, toks: list[Tok], i: int) -> int | None:
        lex = self.lex
        t = toks[i]
        w = plain(t.word)
        if lex.blocked(w) or not t.title or len(w) < 3:
            return None
        if _sentence_start(t, i):  # "Jamal in bed 2", "Petrov is", not "Hosp no:" (a surname, too)
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if lex.is_english(w):
                return None
            if w in lex.first or (
                w in lex.last and len(w) > 4 and nxt is not None and nxt.lower and _adjacent(nxt)
            ):
                return self._extend(toks, i, i + 1, style_of=t)
            return None
        if lex.known(w) and not lex.is_english(w):
            return self._extend(toks, i, i + 1, style_of=t)
        return None

    def _given_before(self, toks: list[Tok], taken: list[bool], i: int) -> int:
        """Where a name starting at token ``i`` with a known first name really starts: up to two
        more given names before it, capitalised, no English word ("Nakato Sarah Mirembe",
        "Nur Aisyah binti Abdullah" read from "Aisyah")."""
        if not (toks[i].title and _first_name(self.lex, plain(toks[i].word))):
            return i
        for _ in range(2):
            if i == 0 or taken[i - 1] or not _adjacent(toks[i]):
                break
            before = toks[i - 1]
            w = plain(before.word)
            if not before.title or len(w) < 3 or self.lex.blocked(w) or self.lex.is_english(w):
                break
            i -= 1
        return i

    def _chat_subject(self, toks: list[Tok], i: int) -> int | None:
        """A known first name in lower case opening a sentence, no English word, with a verb
        after it ("... after the MMR? ella is 13 months", "jamal has a rash")."""
        t = toks[i]
        w = plain(t.word)
        if not t.lower or not _sentence_start(t, i) or i + 1 >= len(toks):
            return None
        if w not in self.lex.first or self.lex.is_english(w) or self.lex.blocked(w):
            return None
        verb = plain(toks[i + 1].word)
        if verb not in _CHAT_VERBS or not _adjacent(toks[i + 1]):
            return None
        return i + 1

    def _sign_off(self, toks: list[Tok], i: int) -> int | None:
        """A first name that signs a message off after a dash ("did u get them - jamal"), or
        capitalised alone after its last sentence ("... this week. Ruairí"): the last word or
        two (one after a sentence), a known first name that is no English word."""
        t = toks[i]
        signed = re.fullmatch(r"[.!?]\s+|\s*\n\s*", t.gap) and t.title and i == len(toks) - 1
        if not (re.fullmatch(_DASH_GAP, t.gap) or signed) or len(toks) - i > 2:
            return None
        w = plain(t.word)
        lex = self.lex
        dashed = re.fullmatch(_DASH_GAP, t.gap) is not None and i == len(toks) - 1
        # the one word after a closing dash: a first name even if it is a word ("- summer"), or a
        # name no list holds ("- Maddie", "- tayo")
        unlisted = (
            len(w) >= 3 and not lex.is_english(w) and not (w.endswith("s") and w[:-1] in lex.stop)
        )
        if (
            dashed
            and (t.lower or t.title)
            and w.isalpha()
            and not lex.blocked(w)
            and (_first_name(lex, w) or unlisted)
        ):
            return i + 1
        if not _first_name(lex, w) or lex.is_english(w):
            return None
        end = i + 1
        if end < len(toks) and _adjacent(toks[end]) and self.lex.known(toks[end].word):
            end += 1
        return end if end == len(toks) else None

    def _lists(self, toks: list[Tok], taken: list[bool], take: Any) -> None:
        """Spread along lists of people: "Tom, Lucy and Raj" once one of them is a name."""
        lex = self.lex
        changed = True
        while changed:
            changed = False
            for i, t in enumerate(toks):
                if taken[i] or lex.blocked(t.word) or not (t.title or t.upper):
                    continue
                if not (lex.known(t.word) or (t.title and not lex.is_english(t.word))):
                    continue
                if self._joined(toks, taken, i):
                    take(i, self._extend(toks, i, i + 1, style_of=t))
                    changed = True

    def _joined(self, toks: list[Tok], taken: list[bool], i: int) -> bool:
        joins = self.lex.joins
        # a name before: "... Tom, Lucy" / "Tom and Lucy"
        gap = toks[i].gap.strip().lower()
        if i > 0 and taken[i - 1] and gap in joins and gap != "":
            return True
        if (
            i > 1
            and taken[i - 2]
            and plain(toks[i - 1].text) in joins
            and toks[i - 1].gap.strip() in ("", ",")
        ):
            return _adjacent(toks[i])
        # a name after: "Tom and Lucy Hart" seen from Tom
        if i + 2 < len(toks) and plain(toks[i + 1].text) in joins and taken[i + 2]:
            return _adjacent(toks[i + 1]) and _adjacent(toks[i + 2])
        return i + 1 < len(toks) and taken[i + 1] and toks[i + 1].gap.strip() in (",", "&", "/")


@lru_cache(maxsize=1)
def finder() -> NameFinder:
    return NameFinder(lexicon())
