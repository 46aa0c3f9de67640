"""Semantic matching: each short piece of a message is compared, with the MiniLM sentence
embedder the assistant already uses, to every concept's phrases (its name in a patient's words,
its HPO term names and layperson synonyms); the nearest concept counts as mentioned when it is
close enough (``data/semantic.yaml``: the threshold chosen on the dev split, and a "nothing
wrong" background whose phrases keep "my breathing is fine" from matching a breathing problem).

Concept phrases are embedded once per process and cached on disk (``cache_dir``); a message
costs one batched embedding of its pieces (a few milliseconds each on a CPU). The matcher only
works with the embedder its threshold was chosen for (``model`` in the data file); with any other
embedder (the hashing one in tests and tiny deployments) it stays off.

Negation ("no chest pain", "I haven't fainted") is decided later by ConText, as for every other
match: the matcher reports the piece's last word as the span.

A concept whose name says where on the body it is ("swelling of the face, lips, tongue or
throat", "sores in the mouth or eyes") does not match a piece whose sentence names only other
parts of the body: "twisted my ankle, it's swollen on the outside" is not a swollen face, and
"peeling skin between the toes" is not the blistering rash of Stevens-Johnson syndrome (the
embedding of "swollen" or "peeling" alone carries no site). ``sites`` gives the body-site
groups of a text.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.core.sentences import boundaries
from tools.triage.lexicon import Lexicon, data_dir

log = logging.getLogger(__name__)

MAX_PIECES = 24
MAX_REMEMBERED = 20_000  # piece vectors kept per process
# clauses end at punctuation (never inside a number: "temp 37.6", "1.5 litres"; nor after an
# abbreviation: "Dr. Patel", see ``assistant.core.sentences``) and before a joining word
_CLAUSE_MARKS = ".!?;:,"
_JOIN = re.compile(
    r"\s(?:and|but|so|because|cos|coz|plus|then|also|with|although|though|while|which)\s"
)
_WORD = re.compile(r"[a-z][a-z']*")
# words that turn a statement into an inability or an absence: an embedding hardly tells
# "I can walk on it" from "unable to walk on it", so a phrase in that form only matches a piece
# in that form too (the other way round, "no chest pain", ConText marks the match negated)
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|nothing|none|without|unable|cannot|can't|cant|won't|wont|isn't|doesn't"
    r"|didn't|hasn't|haven't|less|fewer|few|little|hardly|barely|scarcely|rarely|lost|loss|lack"
    r"|reduced|decreased|poor|poorly|absent|refus\w*|hard|difficult|difficulty|struggl\w*"
    r"|trouble)\b|n't\b"
)


# body-site groups: a concept and a sentence agree when they share a group ("back" is left
# out: "came back", "back from Spain")
_SITES = {
    "face": r"face|faces|cheeks?|lips?|tongue|mouth|jaw|throat|eyes?|eyelids?|nose|gums?|ears?",
    "head": r"head|scalp|forehead",
    "chest": r"chest|breasts?|boobs?|ribs?",
    "abdomen": r"tummy|belly|stomach|abdomen|abdominal|groin",
    "arm": r"arms?|hands?|fingers?|thumbs?|wrists?|elbows?|shoulders?|armpits?",
    "leg": r"legs?|calf|calves|knees?|ankles?|foot|feet|toes?|thighs?|hips?|shins?|heels?",
    "genitals": r"genitals?|penis|testicles?|testicle|scrotum|balls|vagina|vulva|bottom",
}
_SITE_RE = {k: re.compile(rf"\b(?:{v})\b") for k, v in _SITES.items()}
# a sentence that says the trouble is everywhere places it nowhere in particular ("stung on my
# hand, now I'm swelling up all over": the swelling may be the face's)
_WIDESPREAD = re.compile(r"\b(?:all\s+over|everywhere|whole\s+body|spread\w*)\b")


def sites(text: str) -> frozenset[str]:
    """The body-site groups a text names (see ``_SITES``)."""
    low = text.lower()
    return frozenset(k for k, rx in _SITE_RE.items() if rx.search(low))


@dataclass(frozen=True)
class Settings:
    model: str
    threshold: float
    margin: float
    min_words: int
    background: tuple[str, ...]
    extra: dict[str, tuple[str, ...]]
    near: float = 0.0  # how far below the threshold a piece still counts as near a concept


def load_settings(folder: Path | None = None) -> Settings | None:
    path = (folder or data_dir()) / "semantic.yaml"
    if not path.exists():
        return None
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Settings(
        model=str(raw["model"]),
        threshold=float(raw["threshold"]),
        margin=float(raw.get("margin", 0.0)),
        min_words=int(raw.get("min_words", 1)),
        background=tuple(str(p) for p in raw.get("background", [])),
        extra={str(k): tuple(str(p) for p in v) for k, v in (raw.get("phrases") or {}).items()},
        near=float(raw.get("near", 0.0)),
    )


def concept_phrases(lex: Lexicon, extra: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(phrase, concept) for complaints and warning signs: the concept's name (without its
    parenthesised asides), HPO layperson synonyms and own-term names, and any extra phrases."""
    unknown = sorted(set(extra) - set(lex.concepts))
    if unknown:
        raise ValueError(f"semantic.yaml: phrases for unknown concepts {unknown}")
    out: list[tuple[str, str]] = []
    for c in lex.concepts.values():
        if c.kind not in ("complaint", "sign"):
            continue
        name = re.sub(r"\s*\([^)]*\)", "", c.name).strip()
        out.append((name, c.id))
        out.extend((p, c.id) for p in extra.get(c.id, ()))
    out.extend((p, c) for p, c in lex.hpo_lay if lex.concepts[c].kind in ("complaint", "sign"))
    seen: set[tuple[str, str]] = set()
    unique = []
    for phrase, cid in out:
        key = (phrase.lower(), cid)
        if key not in seen:
            seen.add(key)
            unique.append((phrase, cid))
    return unique


# a piece saying something is as usual or over ("feeding fine", "his breathing is normal", "the
# bleeding stopped") states no symptom; "not feeding well" is an inability, not a normal statement
_NORMAL = re.compile(
    r"\b(?:fine|normal|normally|ok|okay|alright|well|good|usual|better|settled|settling|stopped"
    r"|gone|resolved|cleared|healed|healing)\b"
)
# a mild piece ("bled a bit") does not match a phrase that is severe by definition
_MILD = re.compile(
    r"\b(?:a\s+bit|a\s+little|slight|slightly|mild|mildly|minor|small|tiny|not\s+much|not\s+deep)\b"
)
_SEVERE = re.compile(
    r"\b(?:severe|severely|heavy|heavily|very|worst|pouring|won't\s+stop|will\s+not\s+stop|too|big"
    r"|large|deep|widespread|all\s+over|serious|crushing|unbearable)\b"
)
ONE_WORD_EXTRA = 0.1  # a one-word piece carries little context: it must be this much nearer

# who and when dilute a piece's meaning: "my 4 year old is having a fit since this morning" is
# compared as "having a fit"
_LEAD = re.compile(
    r"^(?:(?:and|but|so|also|now|then|well|ok|okay|yes|yeah|um|erm|hi|hello)\s+)*"
    r"(?:(?:i|i'm|im|i've|ive|i'd|we|we're|we've|he|he's|she|she's|they|they're|they've|it|it's|its"
    r"|there's|this|that"
    r"|(?:my|our|his|her|their)\s+(?:\w+\s+){0,3}?(?:son|daughter|baby|boy|girl|kid|child|toddler"
    r"|husband|wife|partner|mum|mom|dad|mother|father|friend|flatmate|brother|sister|nan|gran|grandad"
    r"|grandma|grandpa|old|one))\s+)"
    r"(?:(?:is|are|was|were|has|have|had|been|got|keep|keeps|just|now|also|still|really|started"
    r"|suddenly|been)\s+)*"
)
_TIME = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple\s+of|several|many)"
    r"\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"
)
_TRAIL = re.compile(
    r"\s+(?:since\b.*"
    rf"|(?:for|over|about|around|in|within)\s+(?:the\s+)?(?:last\s+|past\s+)?(?:about\s+)?{_TIME}.*"
    r"|(?:this|last)\s+(?:morning|afternoon|evening|night|week|weekend)\b.*"
    r"|(?:yesterday|today|tonight|earlier)\b.*|all\s+(?:day|night)\b.*)$"
)


def core(piece: str) -> str:
    """The part of a piece that says what is wrong (who and when removed); the piece itself
    when nothing would be left."""
    out = _TRAIL.sub("", _LEAD.sub("", piece.strip())).strip()
    return out if _WORD.search(out) else piece.strip()


@dataclass(frozen=True)
class Match:
    concept: str
    start: int  # the piece's last word
    end: int
    score: float
    negative_form: bool  # the concept's phrase is itself an inability or absence ("can't pee")
    piece: str


@dataclass(frozen=True)
class Near:
    """A piece nothing explained whose nearest concept is closer than the "nothing wrong"
    background but below the threshold: part of the story that is not understood."""

    concept: str
    score: float
    piece: str


@dataclass(frozen=True)
class Piece:
    text: str
    start: int  # where the piece starts and ends in the message
    end: int
    last: tuple[int, int]  # its last word (the span reported for ConText)


def pieces(text: str) -> list[Piece]:
    """Short pieces of a (normalised) message: clauses, also split at "and", "but", "with" ..."""
    out: list[Piece] = []
    pos = 0
    for start, end in _bounds(text):
        chunk = text[pos:start]
        words = list(_WORD.finditer(chunk))
        if words:
            last = words[-1]
            out.append(Piece(chunk.strip(), pos, start, (pos + last.start(), pos + last.end())))
        pos = end
        if len(out) >= MAX_PIECES:
            break
    return out


def _bounds(text: str) -> list[tuple[int, int]]:
    """Where a message is cut into pieces: punctuation (``boundaries`` in clause style) and
    joining words, in order, then the end of the text."""
    cuts = sorted(
        [*boundaries(text, _CLAUSE_MARKS, clause=True)]
        + [(m.start(), m.end()) for m in _JOIN.finditer(text)]
    )
    out: list[tuple[int, int]] = []
    for start, end in cuts:
        if out and start < out[-1][1]:
            continue  # overlaps the cut before ("\nand ")
        out.append((start, end))
    return [*out, (len(text), len(text))]


class SemanticMatcher:
    def __init__(self, embedder: Any, lex: Lexicon, settings: Settings, cache_dir: Path | None):
        self.embedder = embedder
        self.settings = settings
        rows = concept_phrases(lex, settings.extra)
        self.concepts = [c for _p, c in rows] + [""] * len(settings.background)
        texts = [p for p, _c in rows] + list(settings.background)
        self.negative = np.array([bool(_NEGATIVE.search(p.lower())) for p in texts])
        self.severe = np.array([bool(_SEVERE.search(p.lower())) for p in texts])
        self.complaint = np.array(
            [bool(c) and lex.concepts[c].kind == "complaint" for c in self.concepts]
        )
        # where on the body each phrase's concept is, from the concept's name: per site group,
        # the phrases placed there; and the phrases placed nowhere in particular
        placed = [sites(lex.concepts[c].name) if c else frozenset() for c in self.concepts]
        self.unplaced = np.array([not own for own in placed])
        self.site_mask = {g: np.array([g in own for own in placed]) for g in _SITES}
        self.matrix = self._phrase_vectors(texts, cache_dir)
        self._ids = sorted(set(c for c in self.concepts if c))
        self._col = {c: i for i, c in enumerate(self._ids)}
        index = np.array([self._col.get(c, -1) for c in self.concepts])
        self._index = index
        self._seen: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _phrase_vectors(self, texts: list[str], cache_dir: Path | None) -> np.ndarray:
        digest = hashlib.sha256(
            ("\n".join([self.embedder.name, *texts])).encode("utf-8")
        ).hexdigest()[:16]
        path = cache_dir / f"triage-semantic-{digest}.npy" if cache_dir else None
        if path is not None and path.exists():
            try:
                vecs = np.load(path)
                if vecs.shape[0] == len(texts):
                    return np.asarray(vecs, dtype=np.float32)
            except (OSError, ValueError):
                pass
        vecs = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vecs.astype(np.float16))
            except OSError as exc:  # a cache only
                log.info("triage semantic cache not written: %s", exc)
        return vecs

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Piece vectors, remembered (answers such as "No, nothing like that" recur)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if todo:
            vecs = np.asarray(self.embedder.embed(todo), dtype=np.float32)
            with self._lock:
                if len(self._seen) > MAX_REMEMBERED:
                    self._seen.clear()
                self._seen.update(zip(todo, vecs, strict=True))
        return np.vstack([self._seen[t] for t in texts])

    def match(
        self,
        text: str,
        skip: Sequence[tuple[int, int]] = (),
        near: list[Near] | None = None,
    ) -> list[Match]:
        """A match for each piece whose nearest concept is close enough and nearer than the
        background. Pieces holding a span of ``skip`` (what the patterns and the HPO vocabulary
        already recognised) are left out: the embedder fills the gaps of the lexicon, it does
        not second-guess it. ``near`` collects the pieces of two words or more left unmatched
        whose nearest concept is nearer than the background and within ``settings.near`` of the
        threshold."""
        chunks = [
            p
            for p in pieces(text)
            if len(_WORD.findall(p.text)) >= self.settings.min_words
            and not any(p.start <= s < p.end for s, _e in skip)
            and not (_NORMAL.search(p.text) and not _NEGATIVE.search(p.text))
            and not _only_a_place(core(p.text))
        ]
        if not chunks:
            return []
        vecs = self._embed([core(c.text) for c in chunks])
        sims = vecs @ self.matrix.T  # pieces x phrases
        out: list[Match] = []
        bg = self._index < 0
        cuts = boundaries(text, clause=True)  # the sentences, once for every piece
        for row, piece in zip(sims, chunks, strict=True):
            background = float(row[bg].max()) if bg.any() else -1.0
            eligible = ~bg
            if not _NEGATIVE.search(piece.text):
                eligible &= ~self.negative
            if _MILD.search(piece.text):
                eligible &= ~self.severe
            threshold = self.settings.threshold
            if len(_WORD.findall(core(piece.text))) == 1:
                # one word ("swollen", "peeling") is too little to establish a warning sign
                eligible &= self.complaint
                threshold += ONE_WORD_EXTRA
            told = _sentence_sites(text, piece.start, cuts)
            if told:
                # a concept placed elsewhere on the body than every site the sentence names
                agree = self.unplaced.copy()
                for group in told:
                    agree |= self.site_mask[group]
                eligible &= agree
            if not eligible.any():
                continue
            best = int(np.argmax(np.where(eligible, row, -2.0)))
            score = float(row[best])
            if score >= threshold and score >= background + self.settings.margin:
                out.append(
                    Match(
                        self.concepts[best],
                        piece.last[0],
                        piece.last[1],
                        round(score, 3),
                        bool(self.negative[best]),
                        piece.text,
                    )
                )
            elif (
                near is not None
                and len(_WORD.findall(core(piece.text))) > 1
                and score >= threshold - self.settings.near
                and score > background
            ):
                near.append(Near(self.concepts[best], round(score, 3), piece.text))
        return out


def _only_a_place(piece: str) -> bool:
    """A piece that is one word naming a part of the body ("just on arms and chest": "chest")
    says where something is, not what is wrong (round 12b)."""
    words = _WORD.findall(piece)
    return len(words) == 1 and bool(sites(words[0]))


def _sentence_sites(
    text: str, at: int, cuts: Sequence[tuple[int, int]] | None = None
) -> frozenset[str]:
    """The body sites named by the sentence of ``text`` that holds position ``at`` (none when the
    sentence says the trouble is widespread); ``cuts``: ``text``'s sentence boundaries when the
    caller already has them (``boundaries(text, clause=True)``)."""
    start, end = 0, len(text)
    for cut_start, cut_end in boundaries(text, clause=True) if cuts is None else cuts:
        if cut_start >= at:
            end = cut_start
            break
        start = cut_end
    sentence = text[start:end]
    return frozenset() if _WIDESPREAD.search(sentence.lower()) else sites(sentence)


_LOCK = threading.Lock()
_MATCHERS: dict[tuple[str, int, str], SemanticMatcher | None] = {}


def matcher(embedder: Any, lex: Lexicon, cache_dir: Path | None = None) -> SemanticMatcher | None:
    """The matcher for this embedder and lexicon, built once (None when switched off: no
    settings file, or an embedder other than the one the threshold was chosen for)."""
    if embedder is None:
        return None
    key = (str(getattr(embedder, "name", "")), id(lex), str(data_dir()))
    with _LOCK:
        if key in _MATCHERS:
            return _MATCHERS[key]
    settings = load_settings()
    built = None
    if settings is not None and getattr(embedder, "name", None) == settings.model:
        built = SemanticMatcher(embedder, lex, settings, cache_dir)
    with _LOCK:
        _MATCHERS[key] = built
    return built
