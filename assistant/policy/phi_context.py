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
from functools import lru_cache
from typing import Any

from assistant.policy.phi_tokens import (
    CHAT_VERBS,
    DASH_GAP,
    GAELIC,
    PARTICLES,
    Tok,
    adjacent,
    first_name,
    nickname,
    sentence_start,
    signature,
    slash_particle,
    tokenize,
    unlisted_name,
)
from assistant.policy.phi_vocab import Lexicon, lexicon, loaded_lexicon, plain

__all__ = ["Lexicon", "NameFinder", "Tok", "finder", "lexicon", "loaded_lexicon", "tokenize"]


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
            if words == list(phrase) and all(adjacent(t) for t in toks[i - n + 1 : i]):
                if kind == "intro" and not self._clause_start(toks, i - n):
                    kind = "midintro"  # "helo doctor i am wiktoria": a known name only
                gap = toks[i].gap
                if re.fullmatch(r"(?:'s)?\.?\s*[:,(\-–—]?\s*[\"“‘']?", gap) and "\n" not in gap:
                    return kind, n
        return None

    def _clause_start(self, toks: list[Tok], i: int) -> bool:
        """Token ``i`` begins a clause, or follows a greeting ("hi its faith")."""
        if sentence_start(toks[i], i) or toks[i].gap.strip() in (",", "-", "–", "—"):
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
            if not first_name(self.lex, plain(w)) or plain(w) in self.lex.foreign_clinical:
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
            ok = lex.known(w) or (relation and unlisted_name(lex, w))
        elif kind == "naming" and signature(toks, i):
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
            nick = 0 if style_of.lower or after_nickname else nickname(toks, j)
            if nick:  # "Eleanor 'Nell' Fitzgerald": the nickname, then the surname after it
                j += nick
                after_nickname = True
                continue
            if not (after_nickname or adjacent(toks[j])):
                break
            after_nickname = False
            t = toks[j]
            w = plain(t.word)
            if t.initial and not style_of.lower:
                j += 1
                continue
            if slash_particle(toks, j) and toks[j + 2].title and adjacent(toks[j + 2]):
                j += 2  # "Rajesh a/l Subramaniam": the surname after it is read next
                continue
            k = j  # particles, one or more ("van der Linden", "dos Santos")
            while k + 1 < len(toks) and plain(toks[k].word) in PARTICLES and k - j < 2:
                k += 1
            if k > j and toks[k].title and adjacent(toks[k]):
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
        while k + 1 < len(toks) and plain(toks[k].word) in PARTICLES and adjacent(toks[k]):
            k += 1
        if k > i + 1 and a.title and first_name(lex, wa) and toks[k].title and adjacent(toks[k]):
            wk = plain(toks[k].word)
            if wk in lex.last or not lex.is_english(wk):
                return self._extend(toks, i, k + 1, style_of=a)
        same_case = (a.title and b.title) or (a.upper and b.upper)
        if (
            same_case
            and wa in lex.first
            and wb in lex.last
            and adjacent(b)
            and (wa in lex.stop or wa in lex.never)
            and not lex.blocked(wb)
            and len(wb) > 2
        ):
            return self._extend(toks, i, i + 2, style_of=a)  # "Will Turner", "APRIL JONES"
        if lex.blocked(wa) or lex.blocked(wb) or a.initial or (b.initial and not a.title):
            return None
        same = (a.title and b.title) or (a.upper and b.upper) or (a.lower and b.lower)
        if adjacent(b) and same:
            a_first = first_name(lex, wa) or (a.title and not lex.is_english(wa) and len(wa) > 2)
            b_last = wb in lex.last or (b.title and not lex.is_english(wb) and len(wb) > 2)
            gaelic = a.title and GAELIC.fullmatch(b.word) is not None  # "Mhairi MacLeod"
            if a.lower:
                a_first = wa in lex.first and not lex.is_descriptive(wa)
                b_last = wb in lex.last and not lex.is_descriptive(wb)
            if a_first and (b_last or gaelic) and (first_name(lex, wa) or wb in lex.last or gaelic):
                return self._extend(toks, i, i + 2, style_of=a)
        # surname-first: "SMITH, John", "Thompson-Reid, Gareth", "Smith J."
        if (
            b.gap.strip() == ","
            and (a.title or a.upper)
            and (b.title or b.upper)
            and lex.known(wa)
            and first_name(lex, wb)
            and (a.upper or not lex.is_english(wa))
        ):
            return i + 2
        if b.initial and a.title and wa in lex.last and adjacent(b):
            nxt = toks[i + 2] if i + 2 < len(toks) else None
            if nxt is None or not (adjacent(nxt) and nxt.title):
                return i + 2
        return None

    # one capitalised known name that is no English word, or a possessive
    def _single(self, toks: list[Tok], i: int) -> int | None:
        lex = self.lex
        t = toks[i]
        w = plain(t.word)
        if lex.blocked(w) or not t.title or len(w) < 3:
            return None
        if sentence_start(t, i):  # "Jamal in bed 2", "Petrov is", not "Hosp no:" (a surname, too)
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if lex.is_english(w):
                return None
            if w in lex.first or (
                w in lex.last and len(w) > 4 and nxt is not None and nxt.lower and adjacent(nxt)
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
        if not (toks[i].title and first_name(self.lex, plain(toks[i].word))):
            return i
        for _ in range(2):
            if i == 0 or taken[i - 1] or not adjacent(toks[i]):
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
        if not t.lower or not sentence_start(t, i) or i + 1 >= len(toks):
            return None
        if w not in self.lex.first or self.lex.is_english(w) or self.lex.blocked(w):
            return None
        verb = plain(toks[i + 1].word)
        if verb not in CHAT_VERBS or not adjacent(toks[i + 1]):
            return None
        return i + 1

    def _sign_off(self, toks: list[Tok], i: int) -> int | None:
        """A first name that signs a message off after a dash ("did u get them - jamal"), or
        capitalised alone after its last sentence ("... this week. Ruairí"): the last word or
        two (one after a sentence), a known first name that is no English word."""
        t = toks[i]
        signed = re.fullmatch(r"[.!?]\s+|\s*\n\s*", t.gap) and t.title and i == len(toks) - 1
        if not (re.fullmatch(DASH_GAP, t.gap) or signed) or len(toks) - i > 2:
            return None
        w = plain(t.word)
        lex = self.lex
        dashed = re.fullmatch(DASH_GAP, t.gap) is not None and i == len(toks) - 1
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
            and (first_name(lex, w) or unlisted)
        ):
            return i + 1
        if not first_name(lex, w) or lex.is_english(w):
            return None
        end = i + 1
        if end < len(toks) and adjacent(toks[end]) and self.lex.known(toks[end].word):
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
            return adjacent(toks[i])
        # a name after: "Tom and Lucy Hart" seen from Tom
        if i + 2 < len(toks) and plain(toks[i + 1].text) in joins and taken[i + 2]:
            return adjacent(toks[i + 1]) and adjacent(toks[i + 2])
        return i + 1 < len(toks) and taken[i + 1] and toks[i + 1].gap.strip() in (",", "&", "/")


@lru_cache(maxsize=1)
def finder() -> NameFinder:
    return NameFinder(lexicon())
