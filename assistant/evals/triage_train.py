"""Train the triage safety net (``tools/triage/classifier.py``): by default an ensemble of two
logistic regressions, one over the TF-IDF of each vignette's words and word pairs and one over
its MiniLM embedding, each with its own thresholds (``ENSEMBLE``); ``--features tfidf-words`` or
``--features minilm`` trains one alone. On every development vignette set except the main set's
test split (and except ``--exclude`` sets, for leave-one-set-out runs). Writes the weights, the
vocabulary and the training data's provenance to ``tools/triage/data/classifier.json`` (or
``--out``).

    python -m assistant.evals.triage_train
    python -m assistant.evals.triage_train --exclude b --out fold_b.json
    python -m assistant.evals.triage_train --features minilm --sets round10   # round 10's net

Deterministic: the same sets and settings give the same file (lbfgs, no random state used).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tools.triage.classifier import FILE_NAME, features_many
from tools.triage.lexicon import DATA_DIR

# every set whose vignettes train the classifier: the development sets (the main set: its dev
# split only); sets still held out never train it
TRAIN_SETS = ("main:dev", "second", "third", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")
# round 10's net (MiniLM features) was trained on these; it tried the later sets g, h and i too
# (``--extra``) and did not keep them (docs/triage/round10.md, "Round 10 (the learned net)")
ROUND10_SETS = ("main:dev", "second", "third", "b", "c", "d", "e", "f")
EXTRA_SETS = ("g", "h", "i")
LEVELS = ("emergency", "urgent", "routine", "self_care")
FEATURES = "ensemble"  # the word net and a MiniLM net (ENSEMBLE); or one of them alone
# inverse regularisation strength: 10 for the word features, 1 (scikit-learn's default) for
# MiniLM; the word features' C and the words-and-pairs vocabulary (seen in at least 2 stories)
# were chosen by leave-one-set-out on the development sets (docs/triage/round13.md)
C = {"tfidf-words": 10.0, "minilm": 1.0}
MIN_DF = 2
# an ensemble's members (``--features ensemble``): the word net and a MiniLM net on the same sets,
# each with its own thresholds where they differ from the ensemble's (a raise needs one member,
# home care every member): the word net raises to urgent at P(today) >= 0.8 and never to
# emergency (its strongest words include how a story is told, "just", "really", which a
# patient's casual story shares); chosen by leave-one-set-out and a review
# (docs/triage/round13.md). Round 14: the word net's urgent raise needs a story of 15 words (a
# short casual line told the way the training emergencies were stood for the episode), and the
# MiniLM net's emergency raise needs the word net's P(emergency) >= 0.1 (``EMERGENCY_AGREEMENT``)
ENSEMBLE: dict[str, dict[str, Any]] = {
    "tfidf-words": {"threshold": 0.8, "emergency_threshold": None, "urgent_min_words": 15},
    "minilm": {},
}
# an ensemble's emergency raise needs every member's P(emergency) at or above this (a member
# sure it is no emergency vetoes it); chosen by leave-one-set-out (docs/triage/round14.md)
EMERGENCY_AGREEMENT = 0.1
WHAT = {
    "tfidf-words": "the TF-IDF of the story's words and word pairs",
    "minilm": "the story's MiniLM embedding",
}
THRESHOLD = 0.7  # P(emergency) + P(urgent) at which the level is raised to urgent
EMERGENCY_THRESHOLD = 0.5  # P(emergency) at which the level is raised to emergency
REASON = "a story like this one usually needs to be seen today (a learned check of the whole story)"
EMERGENCY_REASON = (
    "a story like this one usually needs emergency care (a learned check of the whole story)"
)
# the emergency raise also needs a story of this many words (a one-line question is outside the
# training stories); chosen by leave-one-set-out (docs/triage/round10.md, "Round 10 (the learned net)")
EMERGENCY_MIN_WORDS = 15
EMBEDDER = "all-MiniLM-L6-v2"
SELF_CARE_THRESHOLD = 0.35  # P(self_care) at which the catch-all "see your doctor" may be home care
SELF_CARE_REASON = (
    "every warning sign asked about was answered no, and a story like this one can usually be "
    "looked after at home (a learned check of the whole story)"
)
# risk factors that rule out home care decided from the learned view (NHS Pharmacy First and
# NICE CKS minor-illness pages send these people to a clinician: pregnancy, a weakened immune
# system or chemotherapy, blood thinners, diabetes, long-term heart, lung or kidney disease,
# recent surgery, and home care already tried without effect; NHS Malaria: feeling unwell after
# travel abroad is seen even without a fever; known epilepsy)
SELF_CARE_BLOCKERS = (
    "pregnancy",
    "immunosuppressed",
    "chemotherapy",
    "anticoagulant",
    "diabetes",
    "heart_lung_kidney",
    "recent_surgery",
    "treatment_failed",
    "recent_travel",
    "epilepsy",
    "immune_lowering_medicine",
)


def training_rows(
    exclude: set[str], sets: tuple[str, ...] = TRAIN_SETS
) -> tuple[list[str], list[str], dict[str, Any]]:
    """(stories, gold levels, provenance) of ``sets`` minus ``exclude``."""
    from assistant.evals.triage_set import SETS, load_vignettes

    texts: list[str] = []
    gold: list[str] = []
    sources: dict[str, Any] = {}
    for name in sets:
        if name in exclude:
            continue
        which, _, part = name.partition(":")
        data, split = load_vignettes(which=which)
        keep = set(split[part]) if part else None
        chosen = [v for v in data["vignettes"] if keep is None or v["id"] in keep]
        texts += ["\n".join(v["turns"]) for v in chosen]
        gold += [
            str(v["level"]).strip().lower().replace("-", "_").replace(" ", "_") for v in chosen
        ]
        sources[name] = {
            "file": SETS[which][0],
            "sha256": split["vignettes_sha256"],
            "n": len(chosen),
        }
    return texts, gold, sources


class _Cached:
    """The embedder, remembering every text's vector (leave-one-set-out folds share stories)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seen: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, np.asarray(self.inner.embed(new)), strict=True))
        return np.stack([self.seen[t] for t in texts])


# the training pools ``--sets`` names
POOLS = {"dev": TRAIN_SETS, "round10": ROUND10_SETS, "round10-extra": ROUND10_SETS + EXTRA_SETS}


def train(
    embedder: Any,
    exclude: set[str],
    *,
    features: str = FEATURES,
    c: float | None = None,
    threshold: float | None = None,
    emergency_threshold: float | None = EMERGENCY_THRESHOLD,
    self_care_threshold: float | None = SELF_CARE_THRESHOLD,
    emergency_min_words: int = EMERGENCY_MIN_WORDS,
    sets: tuple[str, ...] = TRAIN_SETS,
) -> dict[str, Any]:
    """The data file of a net trained on ``sets`` minus ``exclude``. ``embedder`` is the one the
    features need (``minilm``) or the deployment's (``tfidf-words``: its name is kept, the net
    runs only beside it)."""
    from sklearn import __version__ as sklearn_version

    threshold = THRESHOLD if threshold is None else threshold
    texts, gold, sources = training_rows(exclude, sets)
    kinds = tuple(ENSEMBLE) if features == "ensemble" else (features,)
    fitted = [_fit(kind, texts, gold, embedder, C[kind] if c is None else c) for kind in kinds]
    if len(fitted) > 1:
        fitted = [{**ENSEMBLE[kind], **f} for kind, f in zip(kinds, fitted, strict=True)]
    what = " and ".join(WHAT[kind] for kind in kinds)
    counts = {level: gold.count(level) for level in LEVELS}
    pool = next((k for k, v in POOLS.items() if v == sets), ",".join(sets))
    return {
        "what": f"triage safety net: logistic regression over {what} "
        "(tools/triage/classifier.py); it may raise a level: to urgent, or to emergency when confident of an emergency; "
        "and where every relevant warning sign was answered no, it may turn the catch-all 'see your doctor' into home care",
        "licence": "Apache-2.0 (weights learnt from the project's own vignette sets)",
        "command": "python -m assistant.evals.triage_train"
        + (f" --features {features}" if features != FEATURES else "")
        + (f" --sets {pool}" if pool != "dev" else "")
        + "".join(f" --exclude {e}" for e in sorted(exclude)),
        "trained_on": sources,
        "n": len(gold),
        "per_level": counts,
        "sklearn": sklearn_version,
        "features": features,
        "class_weight": "balanced",
        "embedder": embedder.name,
        "classes": list(LEVELS),
        "raise_to": "urgent",
        "positive": ["emergency", "urgent"],
        "threshold": threshold,
        "reason": REASON,
        "emergency_threshold": emergency_threshold,
        "emergency_reason": EMERGENCY_REASON,
        "emergency_min_words": emergency_min_words,
        **({"emergency_agreement": EMERGENCY_AGREEMENT} if len(fitted) > 1 else {}),
        "self_care_threshold": self_care_threshold,
        "self_care_reason": SELF_CARE_REASON,
        "self_care_blockers": list(SELF_CARE_BLOCKERS),
        **({"members": fitted} if len(fitted) > 1 else fitted[0]),
    }


def _fit(kind: str, texts: list[str], gold: list[str], embedder: Any, c: float) -> dict[str, Any]:
    """One logistic regression's data: its features, C, dim, (vocabulary and idf,) weights."""
    from sklearn.linear_model import LogisticRegression

    words: dict[str, Any] = {}
    if kind == "tfidf-words":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=MIN_DF, sublinear_tf=True)
        x: Any = vectorizer.fit_transform(texts)
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        words = {
            "min_df": MIN_DF,
            "vocabulary": vocabulary,
            "idf": [round(float(v), 6) for v in vectorizer.idf_],
        }
        dim = len(vocabulary)
    else:
        x, dim = features_many(embedder, texts), int(embedder.dim)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    model.fit(x, gold)
    order = [list(model.classes_).index(level) for level in LEVELS]
    return {
        "features": kind,
        "C": c,
        "dim": dim,
        "intercept": [round(float(model.intercept_[i]), 6) for i in order],
        **words,
        "coef": [[round(float(w), 6) for w in model.coef_[i]] for i in order],
    }


def main(argv: list[str] | None = None) -> int:
    from assistant.core.config import load_settings
    from assistant.core.embeddings import build_embedder

    ap = argparse.ArgumentParser(prog="python -m assistant.evals.triage_train", description=__doc__)
    ap.add_argument("--exclude", action="append", default=[], choices=TRAIN_SETS)
    ap.add_argument("--out", type=Path, default=DATA_DIR / FILE_NAME)
    ap.add_argument("--features", choices=(*C, "ensemble"), default=FEATURES)
    ap.add_argument(
        "--sets",
        choices=tuple(POOLS),
        default="dev",
        help="the sets to train on: every development set (dev), or round 10's pools",
    )
    ap.add_argument(
        "--threshold",
        type=float,
        help=f"P(today) that raises to urgent (default {THRESHOLD}; an ensemble's members may "
        "have their own)",
    )
    ap.add_argument(
        "--emergency-threshold",
        type=float,
        default=EMERGENCY_THRESHOLD,
        help="P(emergency) that raises to emergency (above 1: never)",
    )
    ap.add_argument(
        "--folds",
        type=Path,
        help="leave-one-set-out: write FOLDS/<set>.json trained without that set, for each set",
    )
    ap.add_argument(
        "--self-care-threshold",
        type=float,
        default=SELF_CARE_THRESHOLD,
        help="P(self_care) at which a settled catch-all level may be home care (above 1: never)",
    )
    ap.add_argument(
        "--emergency-min-words",
        type=int,
        default=EMERGENCY_MIN_WORDS,
        help="the fewest words a story needs for the emergency raise",
    )
    args = ap.parse_args(argv)
    embedder: Any = build_embedder(load_settings())
    if embedder.name != EMBEDDER:
        print(
            f"the triage classifier needs the {EMBEDDER} embedder (configured: "
            f"{embedder.name}): set embeddings.backend to minilm",
            file=sys.stderr,
        )
        return 2
    kw: dict[str, Any] = {
        "features": args.features,
        "threshold": args.threshold,
        "emergency_threshold": None if args.emergency_threshold > 1 else args.emergency_threshold,
        "self_care_threshold": None if args.self_care_threshold > 1 else args.self_care_threshold,
        "emergency_min_words": args.emergency_min_words,
        "sets": POOLS[args.sets],
    }
    if args.folds:
        args.folds.mkdir(parents=True, exist_ok=True)
        embedder = _Cached(embedder)
        for held in kw["sets"]:
            _write(train(embedder, {held}, **kw), args.folds / f"{held}.json")
        return 0
    _write(train(embedder, set(args.exclude), **kw), args.out)
    return 0


def dumps(out: dict[str, Any]) -> str:
    """Readable provenance, one line per weight row (and the vocabulary and idf on one each; an
    ensemble: one line per member)."""
    if "members" in out:
        head = {k: v for k, v in out.items() if k != "members"}
        rows = ",\n  ".join(json.dumps(m, separators=(",", ":")) for m in out["members"])
        return json.dumps(head, indent=1)[:-2] + f',\n "members": [\n  {rows}\n ]\n}}\n'
    compact = ("vocabulary", "idf")
    head = {k: v for k, v in out.items() if k != "coef" and k not in compact}
    lines = "".join(
        f',\n "{k}": {json.dumps(out[k], separators=(",", ":"))}' for k in compact if k in out
    )
    rows = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in out["coef"])
    return json.dumps(head, indent=1)[:-2] + lines + f',\n "coef": [\n  {rows}\n ]\n}}\n'


def _write(out: dict[str, Any], path: Path) -> None:
    text = dumps(out)
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    print(
        f"triage classifier ({out['features']}): {out['n']} stories {out['per_level']} -> {path} ({digest})"
    )


if __name__ == "__main__":
    sys.exit(main())
