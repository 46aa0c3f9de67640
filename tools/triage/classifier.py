"""A learned safety net beside the rules: logistic regressions over the whole story (every
message of the episode), trained on the project's vignette sets
(``assistant/evals/triage_train.py``; weights, vocabulary and provenance in
``data/classifier.json``). The shipped net is an ensemble of two (``members``): a word net and a
MiniLM net.

It may **raise** the level: when the stories that need care today or sooner (emergency or
urgent) get a probability at or above ``threshold``, the level is at least ``urgent``; when
emergency alone gets a probability at or above ``emergency_threshold`` (null: never) and the
story holds at least ``emergency_min_words`` words (a one-line question is outside the stories
it learnt from), the level is emergency. In an ensemble each member reads the story with its own
thresholds (its own in the data file, else the ensemble's), and a raise needs one member; a
member's urgent raise may need a story of ``urgent_min_words`` words, and the emergency raise
every member's P(emergency) at or above ``emergency_agreement`` (none sure it is no emergency)
and not every member below its own ``emergency_lukewarm`` (all lukewarm); the urgent raise every
member's P(today) at or above ``urgent_agreement`` (none sure it can wait). It
lowers a level in one case only: when the rules' level is the catch-all "see your doctor" and
every relevant warning sign was asked and answered no, P(self_care) at or above
``self_care_threshold`` (an ensemble: every member at its own) may decide home care
(``engine.home_care_gate`` lists the other conditions: no risk factor, not a baby or an older
person, the age known when someone else is ill, a short illness). The thresholds were
chosen by leave-one-set-out runs (docs/triage/, rounds 10 to 15). A red-flag rule's emergency is never
touched. It runs only in the deployment it was chosen for (``embedder`` in the data file: the
thresholds were picked by playing the whole assistant, whose semantic matching uses that
embedder); with any other (the hashing one of tests and tiny deployments) it stays off.

Features (``features`` of each model in the data file):
- ``tfidf-words``: TF-IDF of the story's words and word pairs (scikit-learn's
  ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)``, its vocabulary and idf weights
  kept in the data file and applied here without scikit-learn); no embedding is needed.
- ``minilm``: the unit embedding of the story (truncated by the embedder) and the mean of its
  sentences' embeddings, side by side; a message costs one batched embedding.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.sentences import split_sentences
from tools.triage.lexicon import data_dir

FILE_NAME = "classifier.json"
MAX_SENTENCES = 24
MAX_STORY_CHARS = 4000
_WORD = re.compile(r"[A-Za-z]")


def clip_story(text: str) -> str:
    """A story the nets read: a long one (over ``MAX_STORY_CHARS``) cut to its first and its last
    ``MAX_STORY_CHARS // 2`` characters (a warning sign told at the end still counts)."""
    if len(text) <= MAX_STORY_CHARS:
        return text
    half = MAX_STORY_CHARS // 2
    return f"{text[:half]} {text[-half:]}"


@dataclass(frozen=True)
class Model:
    embedder: str
    dim: int
    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, 2 * dim)
    intercept: np.ndarray  # (classes,)
    raise_to: str  # the level a confident "care needed today or sooner" raises to
    positive: tuple[str, ...]  # the classes whose probabilities are summed
    threshold: float
    reason: str  # why the level was raised, in a patient's words
    emergency_threshold: float | None = None
    emergency_reason: str = ""
    # home care from minor-illness evidence (engine.home_care_gate): P(self_care) at or above
    # this (null: never), blocked by these risk factors
    self_care_threshold: float | None = None
    self_care_reason: str = ""
    self_care_blockers: tuple[str, ...] = ()
    # the emergency raise needs a story of at least this many words: a one-line question ("what
    # can I take for heartburn?") is outside the stories the net learnt from
    emergency_min_words: int = 0
    # the urgent raise needs a story of at least this many words (0: any): a short casual line
    # ("honestly i just feel really really awful") is told the way the training emergencies were
    urgent_min_words: int = 0
    # an ensemble's emergency raise (by one member) also needs every member's P(emergency) at or
    # above this: a member sure it is no emergency vetoes it (0: never)
    emergency_agreement: float = 0.0
    # an ensemble's emergency raise is dropped when every member reads P(emergency) below its
    # own ``emergency_lukewarm`` (all lukewarm; None on any member: never)
    emergency_lukewarm: float | None = None
    # an ensemble's urgent raise (by one member) also needs every member's P(today) at or above
    # this: a member sure the story can wait vetoes it (0: never)
    urgent_agreement: float = 0.0
    features: str = "minilm"  # or "tfidf-words", or "ensemble" (``members``)
    vocabulary: dict[str, int] | None = None  # tfidf-words: term -> column
    idf: np.ndarray | None = None  # tfidf-words: (columns,)
    # an ensemble: each member reads the story with its own features, weights and thresholds
    # (a member's own in the data file, else the ensemble's; this model's weights are unused).
    # A raise needs one member at its threshold, home care every member at its own.
    members: tuple[Model, ...] = ()

    def probabilities(self, features: np.ndarray) -> dict[str, float]:
        z = self.coef @ features + self.intercept
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}

    def urgent_probability(self, probs: dict[str, float]) -> float:
        return sum(probs[c] for c in self.positive)


_WORD_RUN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
# scripts written without spaces: Chinese and Japanese (about 2 characters a word), Thai, Lao,
# Myanmar and Khmer (about 4); their characters are counted apart from the letter runs
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SOUTHEAST_ASIAN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")


def story_words(text: str) -> int:
    """How many words a story holds: runs of letters ("chest-pain,left-arm" is 4, "can't" 1;
    digits, punctuation and emoji are none), and for scripts without spaces a word for every 2
    Chinese or Japanese characters or every 4 Thai, Lao, Myanmar or Khmer ones."""
    cjk = len(_CJK.findall(text))
    sea = len(_SOUTHEAST_ASIAN.findall(text))
    rest = _SOUTHEAST_ASIAN.sub(" ", _CJK.sub(" ", text))
    return len(_WORD_RUN.findall(rest)) + cjk // 2 + sea // 4


def sentences(text: str) -> list[str]:
    """The story's sentences that hold a word: at most ``MAX_SENTENCES``, the first and the last
    half of them (a warning sign told at the end of a long story still counts)."""
    parts = [s.strip() for s in split_sentences(text) if s and _WORD.search(s)]
    if len(parts) > MAX_SENTENCES:
        half = MAX_SENTENCES // 2
        parts = parts[:half] + parts[-half:]
    return parts or [text.strip() or "."]


_lock = threading.Lock()
_remembered: dict[tuple[str, str], np.ndarray] = {}
MAX_REMEMBERED = 5_000  # sentence vectors kept per process (a story grows turn by turn)


def features(embedder: Any, text: str) -> np.ndarray:
    """[embedding of the whole story, mean embedding of its sentences] (unit rows each). The
    sentences of earlier messages are remembered, so a turn embeds the story and its new ones."""
    text = clip_story(text)
    parts = sentences(text)
    name = str(getattr(embedder, "name", ""))
    unique = list(dict.fromkeys(parts))
    with _lock:  # the vectors this story needs are taken here, so a later clear cannot lose them
        known = {p: _remembered[(name, p)] for p in unique if (name, p) in _remembered}
    new = [p for p in unique if p not in known]
    vecs = np.asarray(embedder.embed([text, *new]), dtype=np.float32)
    fresh = dict(zip(new, vecs[1:], strict=True))
    with _lock:
        if len(_remembered) + len(new) > MAX_REMEMBERED:
            _remembered.clear()
        _remembered.update(((name, p), v) for p, v in fresh.items())
    rows = [known[p] if p in known else fresh[p] for p in parts]
    mean = np.mean(rows, axis=0)
    mean = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return np.concatenate([vecs[0], mean])


# scikit-learn's default word tokens: runs of two or more word characters, lower-cased
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def word_features(model: Model, text: str) -> np.ndarray:
    """The story's TF-IDF row over ``model``'s vocabulary: words and word pairs, 1 + log(count)
    times idf, unit length (as ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)``)."""
    assert model.vocabulary is not None and model.idf is not None
    text = clip_story(text)
    tokens = _TOKEN.findall(text.lower())
    grams = Counter([*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))])
    row = np.zeros(len(model.idf), dtype=np.float32)
    for gram, count in grams.items():
        col = model.vocabulary.get(gram)
        if col is not None:
            row[col] = (1.0 + math.log(count)) * float(model.idf[col])
    norm = float(np.linalg.norm(row))
    return row / norm if norm > 0 else row


def features_many(embedder: Any, texts: Sequence[str]) -> np.ndarray:
    """``features`` for many stories in one batched embedding (training and evaluation)."""
    flat: list[str] = []
    spans: list[tuple[int, int]] = []
    for text in texts:
        text = text[:MAX_STORY_CHARS]
        parts = sentences(text)
        spans.append((len(flat), len(parts)))
        flat += [text, *parts]
    vecs = np.asarray(embedder.embed(flat), dtype=np.float32)
    rows = []
    for start, n in spans:
        mean = vecs[start + 1 : start + 1 + n].mean(axis=0)
        rows.append(np.concatenate([vecs[start], mean / max(float(np.linalg.norm(mean)), 1e-9)]))
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


_cache: dict[Path, Model | None] = {}


def load(path: Path | None = None) -> Model | None:
    """The shipped model (cached per file), or None when the data file is absent."""
    path = path or data_dir() / FILE_NAME
    with _lock:
        if path not in _cache:
            _cache[path] = _read(path) if path.exists() else None
        return _cache[path]


def _read(path: Path) -> Model:
    return _model(json.loads(path.read_text(encoding="utf-8")))


def _model(raw: dict[str, Any], top: dict[str, Any] | None = None) -> Model:
    """A model from its data file (``top``: an ensemble's file, whose thresholds and reasons
    its members share)."""
    if "members" in raw:
        members = tuple(_model(m, raw) for m in raw["members"])
        # the ensemble's own fields are the file's top level (a member's may differ)
        return replace(
            members[0],
            threshold=float(raw["threshold"]),
            reason=raw["reason"],
            emergency_threshold=raw.get("emergency_threshold"),
            emergency_reason=raw.get("emergency_reason", ""),
            emergency_min_words=int(raw.get("emergency_min_words", 0)),
            urgent_min_words=int(raw.get("urgent_min_words", 0)),
            emergency_agreement=float(raw.get("emergency_agreement", 0.0)),
            emergency_lukewarm=raw.get("emergency_lukewarm"),
            urgent_agreement=float(raw.get("urgent_agreement", 0.0)),
            self_care_threshold=raw.get("self_care_threshold"),
            self_care_reason=raw.get("self_care_reason", ""),
            features="ensemble",
            members=members,
        )
    own, raw = raw, {**(top or {}), **raw}  # a member's own thresholds win over the ensemble's
    return Model(
        embedder=raw["embedder"],
        dim=int(own["dim"]),
        classes=tuple(raw["classes"]),
        coef=np.asarray(own["coef"], dtype=np.float32),
        intercept=np.asarray(own["intercept"], dtype=np.float32),
        raise_to=raw["raise_to"],
        positive=tuple(raw["positive"]),
        threshold=float(raw["threshold"]),
        reason=raw["reason"],
        emergency_threshold=raw.get("emergency_threshold"),
        emergency_reason=raw.get("emergency_reason", ""),
        self_care_threshold=raw.get("self_care_threshold"),
        self_care_reason=raw.get("self_care_reason", ""),
        self_care_blockers=tuple(raw.get("self_care_blockers", ())),
        emergency_min_words=int(raw.get("emergency_min_words", 0)),
        urgent_min_words=int(raw.get("urgent_min_words", 0)),
        emergency_lukewarm=raw.get("emergency_lukewarm"),
        features=own.get("features", "minilm"),
        vocabulary={t: i for i, t in enumerate(own["vocabulary"])} if "vocabulary" in own else None,
        idf=np.asarray(own["idf"], dtype=np.float32) if "idf" in own else None,
    )


def usable(model: Model | None, embedder: Any) -> bool:
    if model is None or embedder is None:
        return False
    return all(
        getattr(embedder, "name", None) == m.embedder
        and (m.features == "tfidf-words" or getattr(embedder, "dim", None) == m.dim)
        for m in model.members or (model,)
    )


def assess_story(text: str, embedder: Any, model: Model | None = None) -> dict[str, Any] | None:
    """The classifier's view of a story: its probabilities and the level it raises to (None when
    it is not confident), or None when it is off (no model, or another embedder)."""
    model = model or load()
    if model is None or not usable(model, embedder) or not text.strip():
        return None
    parts = model.members or (model,)
    views = [
        m.probabilities(
            word_features(m, text) if m.features == "tfidf-words" else features(embedder, text)
        )
        for m in parts
    ]
    probs = {c: sum(v[c] for v in views) / len(views) for c in model.classes}
    today = [m.urgent_probability(v) for m, v in zip(parts, views, strict=True)]
    out: dict[str, Any] = {
        "probabilities": {k: round(v, 3) for k, v in probs.items()},
        "p_today": round(max(today), 3),
        "raise_to": None,
        "reason": model.reason,
    }
    words = story_words(text)
    if all(p >= model.urgent_agreement for p in today) and any(
        p >= m.threshold and words >= m.urgent_min_words for m, p in zip(parts, today, strict=True)
    ):
        out["raise_to"] = model.raise_to
    long_enough = words >= model.emergency_min_words
    agreed = all(v.get("emergency", 0.0) >= model.emergency_agreement for v in views)
    lukewarm = all(
        m.emergency_lukewarm is not None and v.get("emergency", 0.0) < m.emergency_lukewarm
        for m, v in zip(parts, views, strict=True)
    )
    if (
        long_enough
        and agreed
        and not lukewarm
        and any(
            m.emergency_threshold is not None and v.get("emergency", 0.0) >= m.emergency_threshold
            for m, v in zip(parts, views, strict=True)
        )
    ):
        out.update(raise_to="emergency", reason=model.emergency_reason)
    home = out["raise_to"] is None and all(
        m.self_care_threshold is not None and v.get("self_care", 0.0) >= m.self_care_threshold
        for m, v in zip(parts, views, strict=True)
    )
    out["home_care"] = model.self_care_reason if home else None
    out["blockers"] = list(model.self_care_blockers)
    if model.members:
        out["members"] = [
            {"features": m.features, **{k: round(x, 3) for k, x in v.items()}}
            for m, v in zip(parts, views, strict=True)
        ]
    return out
