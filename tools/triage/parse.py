"""Reading a patient's message: which concepts it mentions (present, absent, possible), who is
ill, their age and sex, how long it has been going on, temperature, pain score, and whether an
answer says yes, no or "not sure".

Concepts are found by the regular expressions in ``data/concepts.yaml``; whether each mention is
negated ("no fever", "I haven't fainted"), hedged ("I think"), hypothetical ("if he gets a rash")
or past history is decided by medspaCy's ConText over the project's ConText rules
(``knowledge/data/nlp/context_rules.json``) plus the patient-language rules in
``data/context_rules.json``. The spaCy pipeline is blank English plus ConText: no model, built
once per process (about a second after spaCy and medspaCy are imported).
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.policy.safety import educational
from assistant.policy.safety import normalize as safety_normalize
from tools.triage.lexicon import Lexicon, data_dir, lexicon
from tools.triage.unexplained import keep_near
from tools.triage.values import (
    Range,
    parse_age,
    parse_durations,
    parse_severity,
    parse_subject,
    parse_temperature,
)
from tools.triage.vocab import PhraseIndex, Speller, english_words, pattern_words

MAX_CHARS = 20_000  # a turn's limit; longer text is cut, never rejected here
# Recognisers switched off, for ablation studies (assistant/evals/triage_loso.py): "patterns", "hpo",
# "spelling", "semantic". Empty in the product.
OFF: set[str] = set()
Status = str  # "present" | "absent" | "possible"

_NEG_START = re.compile(
    r"^\W*(?:no|nope|nah|none|nothing|never|neither|negative|not\s+(?:really|at\s+all|that\s+i\s+know"
    r"|that\s+i.?ve\s+noticed|any)|i\s+don.?t\s+think\s+so|no\s+not)\b"
)
_POS_START = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|yea|aye|ya|definitely|i\s+think\s+so|a\s+(?:bit|little)|sometimes|slightly"
    r"|kind\s+of|sort\s+of|it\s+does|(?:he|she|they|i)\s+(?:does|do|did|is|am|are|has|have)\b(?!\s+n)"
    r"|there\s+is|correct|now\s+you\s+mention\s+it|actually)\b"
)
_UNSURE = re.compile(
    r"\b(?:not\s+sure|don.?t\s+know|dunno|no\s+idea|unsure|can.?t\s+tell|not\s+certain|maybe|hard\s+to\s+say)\b"
)
_NORMAL = re.compile(
    r"\b(?:fine|normal|normally|ok|okay|well|alright|usual\s+self|as\s+usual|alert|awake|chatty|chatting"
    r"|playing|responds?|responding|running\s+around|no\s+problems?|no\s+issues|all\s+good|nothing\s+else"
    r"|same\s+as\s+always|looks\s+the\s+same)\b"
)
_SYMPTOM_WORDS = re.compile(
    r"\b(?:pain|hurts?|hurting|sore|swollen|swelling|bad|worse|struggl\w*|can.?t|cannot|really|very|lots?"
    r"|loads|blood|bleeding|numb|weak|spreading|hot|red|yellow|blurr\w*|sick|since|started|yes)\b"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass
class Mention:
    concept: str
    status: Status
    start: int
    end: int
    text: str


@dataclass
class Findings:
    """Everything one message says (nothing here knows about earlier turns)."""

    text: str  # normalised
    mentions: dict[str, Mention] = field(default_factory=dict)
    subject: str | None = None  # "self" | "other"
    relation: str | None = None
    sex: str | None = None
    age: Range | None = None
    age_stated: bool = False
    duration: Range | None = None
    duration_by: dict[str, Range] = field(default_factory=dict)
    temperature: float | None = None
    severity: float | None = None
    course: str | None = None
    polarity: str | None = None  # for answers: "yes" | "no" | "unsure"
    sentences: list[str] = field(default_factory=list)
    # pieces nothing explained, near a concept: (concept, score, piece) - see semantic.Near
    near: list[tuple[str, float, str]] = field(default_factory=list)

    def status(self, concept: str) -> Status | None:
        m = self.mentions.get(concept)
        return m.status if m else None

    def present(self) -> list[str]:
        return [c for c, m in self.mentions.items() if m.status != "absent"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mentions": {c: m.status for c, m in self.mentions.items()},
            "subject": self.subject,
            "relation": self.relation,
            "sex": self.sex,
            "age": list(self.age) if self.age else None,
            "duration": list(self.duration) if self.duration else None,
            "temperature": self.temperature,
            "severity": self.severity,
            "course": self.course,
            "polarity": self.polarity,
        }


def normalize(text: str, lex: Lexicon | None = None) -> str:
    """The project's normalisation (safety.normalize), the triage typo list, then spelling
    tolerance (``vocab.Speller``: unknown words read as the triage word they are closest to)."""
    lex = lex or lexicon()
    out = safety_normalize(text[:MAX_CHARS])
    if lex.typos:
        out = _typo_pattern(lex).sub(lambda m: lex.typos[m.group(0)], out)
    speller = _speller(lex) if "spelling" not in OFF else None
    return speller.fix(out) if speller is not None else out


def _typo_pattern(lex: Lexicon) -> re.Pattern[str]:
    if "typos" not in lex.cache:
        words = sorted(lex.typos, key=len, reverse=True)
        lex.cache["typos"] = re.compile(
            r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w'])"
        )
    pattern: re.Pattern[str] = lex.cache["typos"]
    return pattern


def _speller(lex: Lexicon) -> Speller | None:
    """The spelling corrector over the triage vocabulary (None without an English word list)."""
    if "speller" not in lex.cache:
        english = english_words()
        words: set[str] = set()
        if english:
            words = pattern_words(p for c in lex.concepts.values() for p in c.patterns)
            for c in lex.concepts.values():
                words.update(re.findall(r"[a-z]{4,}", c.name.lower()))
            for phrase, _c in lex.hpo_phrases:
                words.update(re.findall(r"[a-z]{4,}", phrase.lower()))
            words.update(re.findall(r"[a-z]{4,}", " ".join(lex.typos.values())))
        lex.cache["speller"] = Speller(words, english) if english else None
    speller: Speller | None = lex.cache["speller"]
    return speller


def _phrases(lex: Lexicon) -> PhraseIndex:
    if "phrases" not in lex.cache:
        lex.cache["phrases"] = PhraseIndex(lex.hpo_phrases)
    index: PhraseIndex = lex.cache["phrases"]
    return index


# ---------------------------------------------------------------- ConText pipeline


_LOCK = threading.Lock()
_NLP: Any = None
_NLP_DIR: Any = None


def _clause_starts(text: str) -> list[int]:
    """Character offsets where a new clause starts: after . ! ? ; and newlines, and after a comma
    unless the comma continues a short list closed by "or"/"nor" ("no fever, rash or vomiting")."""
    starts = [0]
    for m in re.finditer(r"[.!?;]+\s*|\n+", text):
        starts.append(m.end())
    for m in re.finditer(r",\s*", text):
        rest = re.split(r"[.!?;\n]", text[m.end() :], maxsplit=1)[0]
        if re.match(r"(?:which|who|that)\s+(?:is|was|are|'s)\b", rest):
            continue  # a relative clause describes what came before ("…, which is normal for him")
        items = [s.strip() for s in rest.split(",")]
        listy = all(len(s.split()) <= 4 for s in items) and re.search(r"\b(?:or|nor)\b", rest)
        if not listy:
            starts.append(m.end())
    return sorted(set(s for s in starts if s < len(text)))


def _pipeline() -> Any:
    global _NLP, _NLP_DIR
    if _NLP is not None and data_dir() == _NLP_DIR:
        return _NLP
    with _LOCK:
        if _NLP is None or data_dir() != _NLP_DIR:
            import spacy
            from spacy.language import Language

            from knowledge.nlp.lexicon import DATA_DIR as NLP_DATA
            from knowledge.nlp.pipeline import silence_medspacy
            from knowledge.nlp.rules import context_rules

            silence_medspacy()
            import medspacy.context  # noqa: F401 - registers medspacy_context

            if "clinassist_triage_clauses_v1" not in Language.factories:

                @Language.component("clinassist_triage_clauses_v1")
                def clauses(doc: Any) -> Any:
                    starts = set(_clause_starts(doc.text))
                    for tok in doc:
                        tok.is_sent_start = tok.i == 0 or tok.idx in starts
                    return doc

            nlp = spacy.blank("en")
            nlp.add_pipe("clinassist_triage_clauses_v1")
            ctx: Any = nlp.add_pipe(
                "medspacy_context",
                config={
                    "rules": None,
                    "input_span_type": "group",
                    "span_group_name": "triage",
                    "prune_on_target_overlap": True,
                },
            )
            ctx.add(context_rules(NLP_DATA / "context_rules.json"))
            ctx.add(context_rules(data_dir() / "context_rules.json"))
            _NLP, _NLP_DIR = nlp, data_dir()
    return _NLP


def warm() -> None:
    """Build the ConText pipeline and compile its rule matchers now (the first message would
    otherwise pay for the spaCy and medspaCy imports and the matcher compilation)."""
    text = "no fever, a sore throat"
    lex = lexicon()
    _statuses(text, _matches(text, lex), lex)


def _matches(text: str, lex: Lexicon) -> list[tuple[str, int, int]]:
    """Every concept pattern's matches. A pattern whose matches must start with one of a few
    literal words is only tried where those words occur (same result as a full scan: see
    ``lexicon.leading_literals``), which keeps long pasted letters fast."""
    found: list[tuple[str, int, int]] = []
    if "hpo" not in OFF:
        found.extend(_phrases(lex).find(text))  # the HPO vocabulary, as whole words
    if "patterns" in OFF:
        return found
    for cid, patterns in lex.compiled.items():
        leads = lex.leads.get(cid, ())
        for i, pattern in enumerate(patterns):
            lits = leads[i] if i < len(leads) else None
            if lits is None:
                spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
            else:
                spans = _anchored(pattern, text, lits)
            found.extend((cid, start, end) for start, end in spans if end > start)
    return found


def _anchored(pattern: re.Pattern[str], text: str, lits: frozenset[str]) -> list[tuple[int, int]]:
    starts: set[int] = set()
    for lit in lits:
        pos = text.find(lit)
        while pos != -1:
            starts.add(pos)
            pos = text.find(lit, pos + 1)
    out: list[tuple[int, int]] = []
    last = -1
    for pos in sorted(starts):
        if pos < last:
            continue
        m = pattern.match(text, pos)
        if m:
            out.append((m.start(), m.end()))
            last = max(m.end(), pos + 1)
    return out


def _subsumed(matches: list[tuple[str, int, int]], lex: Lexicon) -> list[tuple[str, int, int]]:
    """Drop a complaint matched inside a longer match of another complaint ("rash" inside
    "nappy rash", "cold" inside "cold sore")."""
    spans = [(c, s, e) for c, s, e in matches if lex.concepts[c].kind == "complaint"]
    out = []
    for cid, start, end in matches:
        inside = lex.concepts[cid].kind == "complaint" and any(
            c != cid and s <= start and end <= e and (e - s) > (end - start) for c, s, e in spans
        )
        if not inside:
            out.append((cid, start, end))
    return out


def _statuses(
    text: str, matches: list[tuple[str, int, int]], lex: Lexicon
) -> list[tuple[str, Status | None]]:
    """ConText over all matches at once (overlapping spans allowed). Past history counts for
    risk factors only ("history of epilepsy"); hypothetical mentions count for nothing."""

    def risk(cid: str) -> bool:
        return lex.concepts[cid].kind == "risk"

    out: list[tuple[str, Status | None]] = [(cid, None) for cid, _s, _e in matches]
    for lo, hi in _chunks(text):
        idx = [i for i, (_c, s, _e) in enumerate(matches) if lo <= s < hi]
        if not idx:
            continue
        hi = max(hi, *(matches[i][2] for i in idx))  # a match may run past the chunk's end
        for i, status in zip(
            idx, _context(text[lo:hi], [matches[i] for i in idx], lo), strict=True
        ):
            cid = matches[i][0]
            if status == "historical":
                status = "present" if risk(cid) else None
            out[i] = (cid, status)
    return out


CHUNK_CHARS = 600


def _chunks(text: str) -> list[tuple[int, int]]:
    """Runs of whole clauses up to ~600 characters: ConText compares every target with every
    modifier of a doc, so a long letter is read in pieces (scopes never cross a clause)."""
    starts = [*_clause_starts(text), len(text)]
    out: list[tuple[int, int]] = []
    lo = 0
    for a, b in itertools.pairwise(starts):
        if b - lo > CHUNK_CHARS and a > lo:
            out.append((lo, a))
            lo = a
    out.append((lo, len(text)))
    return out


def _context(text: str, matches: list[tuple[str, int, int]], offset: int) -> list[str | None]:
    nlp = _pipeline()
    with _LOCK:
        doc = nlp.make_doc(text)
        spans = []
        index = []
        for i, (cid, start, end) in enumerate(matches):
            span = doc.char_span(start - offset, end - offset, label=cid, alignment_mode="expand")
            if span is not None:
                spans.append(span)
                index.append(i)
        doc.spans["triage"] = spans
        for _name, proc in nlp.pipeline:
            doc = proc(doc)
        out: list[str | None] = [None] * len(matches)
        for i, span in zip(index, doc.spans["triage"], strict=True):
            if span._.is_hypothetical:
                out[i] = None
            elif span._.is_negated:
                out[i] = "absent"
            elif span._.is_historical:
                out[i] = "historical"
            elif span._.is_uncertain:
                out[i] = "possible"
            else:
                out[i] = "present"
        return out


def _merge(status: Status | None, new: Status | None) -> Status | None:
    """Two mentions of one concept in a message: the later one wins ("a fever last week, no
    temperature today"), except that "possible" does not undo "present"."""
    if new is None:
        return status
    if status == "present" and new == "possible":
        return status
    return new


def polarity(text: str) -> str | None:
    """How an answer starts: "no", "yes", "unsure", or None."""
    t = text.strip().lower()
    if _NEG_START.match(t):
        return "no"
    if _UNSURE.search(t[:60]):
        return "unsure"
    if _POS_START.match(t):
        return "yes"
    if _NORMAL.search(t) and not _SYMPTOM_WORDS.search(t):
        return "no"
    return None


_NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|without|nor|neither)\b|n't\b")


def sentence_polarity(text: str) -> str | None:
    """Polarity of a free-text answer sentence: how it starts, else negation words (no), else
    "normal" words (no), else symptom words (yes)."""
    p = polarity(text)
    if p is not None:
        return p
    if _NEGATION.search(text) or _NORMAL.search(text):
        return "no"
    if _SYMPTOM_WORDS.search(text):
        return "yes"
    return None


def parse(
    text: str,
    *,
    expect: frozenset[str] = frozenset(),
    lex: Lexicon | None = None,
    embedder: Any = None,
    cache_dir: Path | None = None,
) -> Findings:
    """Read one message. ``expect``: value topics just asked about (a bare "46" is then an age,
    "4 days" a duration, "7" a pain score, "38.6" a temperature). ``embedder``: the sentence
    embedder for semantic matching (``semantic.py``; off when None or not the one it was tuned
    for); ``cache_dir``: where its concept-phrase vectors are cached."""
    lex = lex or lexicon()
    norm = normalize(text, lex)
    found = Findings(text=norm)
    if not norm.strip():
        return found
    found.sentences = [s for s in _SENTENCE_END.split(norm) if s.strip()]
    found.polarity = sentence_polarity(found.sentences[0]) if found.sentences else None
    matches = _subsumed(_matches(norm, lex), lex)
    semantic = _semantic(norm, matches, lex, embedder, cache_dir, found.near)
    matches += [(c, s, e) for c, s, e, _inability in semantic]
    # a semantic match to an inability ("unable to pee") carries its own negation: ConText's
    # reading of "can't" is the concept itself, unless the piece starts with a denial ("no, ...")
    inability = {(c, s) for c, s, _e, neg in semantic if neg}
    if matches:
        statuses = _statuses(norm, matches, lex)
        statuses = [
            (cid, "present" if st == "absent" and (cid, m[1]) in inability else st)
            for m, (cid, st) in zip(matches, statuses, strict=True)
        ]
        ordered = sorted(zip(matches, statuses, strict=True), key=lambda ms: ms[0][1])
        for (cid, start, end), (_cid, status) in ordered:
            if status is None:
                continue
            prev = found.mentions.get(cid)
            merged = _merge(prev.status if prev else None, status)
            if prev is None or merged != prev.status:
                found.mentions[cid] = Mention(cid, str(merged), start, end, norm[start:end])
    found.near = keep_near(found.near, found.mentions, lex)
    if not any(lex.concepts[c].kind in ("complaint", "sign") for c in found.present()) and (
        _health_story(norm) or found.near
    ):  # a health worry in words the lexicon lacks: the catch-all complaint, never nothing
        found.mentions["unwell_general"] = Mention("unwell_general", "present", 0, 0, "")
    found.mentions = dict(sorted(found.mentions.items(), key=lambda kv: kv[1].start))
    subj = parse_subject(norm, text)
    found.subject, found.relation, found.sex = subj.subject, subj.relation, subj.sex
    found.age, found.age_stated = parse_age(
        norm, text, relation=subj.relation, bare="age" in expect
    )
    durations = parse_durations(norm)
    if not durations and "duration" in expect:
        for sentence in found.sentences:
            durations = parse_durations(sentence, bare=True)
            if durations:
                break
    if durations:
        found.duration = max((d.range for d in durations), key=lambda r: r[1])
        found.duration_by = _durations_by_complaint(durations, found, norm, lex)
    found.temperature = parse_temperature(norm, bare="temperature" in expect)
    found.severity = parse_severity(norm, bare="severity" in expect)
    found.course = _course(norm)
    _apply_values(found)
    return found


def _semantic(
    text: str,
    matches: list[tuple[str, int, int]],
    lex: Lexicon,
    embedder: Any,
    cache_dir: Path | None,
    near: list[tuple[str, float, str]] | None = None,
) -> list[tuple[str, int, int, bool]]:
    """Concepts the embedder finds in the pieces of the message the lexicon left unexplained:
    (concept, start, end, stated as an inability: "I can't pee at all"); ``near`` collects the
    pieces left unexplained that are near a concept."""
    if "semantic" in OFF or embedder is None:
        return []
    from tools.triage.semantic import matcher

    m = matcher(embedder, lex, cache_dir)
    if m is None:
        return []
    known = {c for c, _s, _e in matches}
    # a catch-all match ("pain", "swollen") explains nothing specific: it does not hide a piece
    explained = [(s, e) for c, s, e in matches if c not in lex.generic]
    out = []
    misses: list[Any] = []
    for hit in m.match(text, explained, misses):
        if hit.concept not in known:
            known.add(hit.concept)
            denied = hit.negative_form and bool(_NEG_START.match(hit.piece))
            out.append((hit.concept, hit.start, hit.end, hit.negative_form and not denied))
    if near is not None:
        near.extend((n.concept, n.score, n.piece) for n in misses)
    return out


def _durations_by_complaint(
    durations: list[Any], found: Findings, text: str, lex: Lexicon
) -> dict[str, Range]:
    """Per complaint: the longest duration said in its own clause or in a clause that names no
    other complaint ("cough for 5 weeks, fever since yesterday" keeps the two apart)."""
    starts = _clause_starts(text)

    def clause(pos: int) -> int:
        return starts[max(0, bisect.bisect_right(starts, pos) - 1)]

    complaints = {
        c: clause(m.start)
        for c, m in found.mentions.items()
        if lex.concepts[c].kind == "complaint" and m.end > m.start
    }
    owners: dict[int, set[str]] = {}
    for c, cl in complaints.items():
        owners.setdefault(cl, set()).add(c)
    out: dict[str, Range] = {}
    for c, cl in complaints.items():
        mine = [
            d.range
            for d in durations
            if clause(d.start) == cl or not (owners.get(clause(d.start), set()) - {c})
        ]
        if mine:
            out[c] = max(mine, key=lambda r: r[1])
    return out


_WORSE = re.compile(
    r"\b(?:getting\s+worse|worsening|gone\s+downhill|worse\s+(?:and\s+worse|today|now)|getting\s+more\s+often)\b"
)
_BETTER = re.compile(
    r"\b(?:getting\s+better|improving|easing(?:\s+off)?|feel(?:ing)?\s+(?:a\s+bit\s+)?better|settling)\b"
)


def _course(text: str) -> str | None:
    if _WORSE.search(text):
        return "worse"
    if _BETTER.search(text):
        return "better"
    return None


def _apply_values(found: Findings) -> None:
    """Facts implied by values: a measured temperature settles "fever"; pregnancy implies female;
    a gradual onset rules out a sudden one."""
    if found.temperature is not None:
        status = "present" if found.temperature >= 38.0 else "absent"
        found.mentions["fever"] = Mention("fever", status, 0, 0, f"{found.temperature:g}C")
    if found.status("pregnancy") in ("present", "possible") or re.search(
        r"\b(?:period|menopaus|pregnan|vagina|womb|breastfeed)", found.text
    ):
        found.sex = found.sex or "female"
    gradual = re.search(r"\b(?:gradual(?:ly)?|slowly|built\s+up|came\s+on\s+over)\b", found.text)
    if gradual and found.status("sudden_onset") is None:
        found.mentions["sudden_onset"] = Mention("sudden_onset", "absent", 0, 0, "gradual")


_QUESTION = re.compile(
    r"^\W*(?:is|are|can|could|does|do|how|what|why|when|which|should|will|would|who)\b.*\?\s*$",
    re.S,
)
_PERSON = re.compile(
    r"\b(?:i|i'm|i've|i'd|me|my|mine|myself|we|our|us|he|she|his|her|him|they|them|their"
    r"|son|daughter|wife|husband|mum|mom|dad|baby|kid|child|toddler|friend|partner)\b"
)


def _general(norm: str) -> bool:
    return educational(norm) or bool(_QUESTION.match(norm) and not _PERSON.search(norm))


_HEALTH_CUES = re.compile(
    r"\b(?:feel|feels|feeling|felt|symptoms?|unwell|ill|poorly|worried|concerned|acting|behaving|doctor|gp"
    r"|hospital|a&e|hurts?|hurting|pain|aches?|sore|swollen|swelling|lump|bleed\w*|bump|injur\w*|fell"
    r"|fall|sick|temperature|weird|strange|funny|not\s+right|can.?t\s+(?:move|walk|breathe|see|hear|stop)"
    r"|won.?t\s+(?:move|wake|stop|eat|drink)|back|chest|head|tummy|stomach|belly|legs?|arms?"
    r"|knees?|foot|feet|hands?|eyes?|ears?|throat|neck|skin|mouth|tooth|teeth|fingers?|toes?"
    r"|wrists?|ankles?|hips?|shoulders?|bum|bottom|tongue|lips?|face|nose|pee|wee|poo|periods?"
    r"|pregnant|overdose)\b"
)


def _health_story(norm: str) -> bool:
    """A person (the writer or someone named) and a health worry, in any words."""
    return bool(_PERSON.search(norm) and _HEALTH_CUES.search(norm)) and not _general(norm)


def educational_question(text: str) -> bool:
    """A general question with nobody in it ("what is a sore throat?", "is a cold contagious?")."""
    return _general(normalize(text))


def mentions_symptoms(
    text: str,
    lex: Lexicon | None = None,
    *,
    embedder: Any = None,
    cache_dir: Path | None = None,
) -> bool:
    """Cheap check (no ConText) that a message tells of a health worry: a complaint or a warning
    sign in the patterns or the HPO vocabulary (after spelling tolerance), a person and a health
    cue in any words, or - with the embedder - a piece semantically close to a complaint or a
    warning sign; never a general question with nobody in it."""
    lex = lex or lexicon()
    norm = normalize(text, lex)
    if not norm.strip() or _general(norm):
        return False
    for cid, patterns in lex.compiled.items():
        if lex.concepts[cid].kind in ("complaint", "sign") and any(
            p.search(norm) for p in patterns
        ):
            return True
    if any(lex.concepts[c].kind in ("complaint", "sign") for c, _s, _e in _phrases(lex).find(norm)):
        return True
    if _health_story(norm):
        return True
    return bool(_semantic(norm, [], lex, embedder, cache_dir))
