"""Train the triage safety net (``tools/triage/classifier.py``): a logistic regression over the
MiniLM embedding of each vignette's story, on every vignette set except the main set's test
split (and except ``--exclude`` sets, for leave-one-set-out runs). Writes the weights and the
training data's provenance to ``tools/triage/data/classifier.json`` (or ``--out``).

    python -m assistant.evals.triage_train
    python -m assistant.evals.triage_train --exclude b --out fold_b.json

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

# every set whose vignettes may train the classifier (the main set: its dev split only)
TRAIN_SETS = ("main:dev", "second", "third", "b", "c", "d", "e", "f")
# later sets tried as training data in round 10 (``--extra``); leave-one-set-out did not keep
# them (docs/TRIAGE.md, "Round 10 (the learned net)")
EXTRA_SETS = ("g", "h", "i")
LEVELS = ("emergency", "urgent", "routine", "self_care")
C = 1.0  # inverse regularisation strength (scikit-learn's default)
THRESHOLD = 0.7  # P(emergency) + P(urgent) at which the level is raised to urgent
EMERGENCY_THRESHOLD = 0.5  # P(emergency) at which the level is raised to emergency
REASON = "a story like this one usually needs to be seen today (a learned check of the whole story)"
EMERGENCY_REASON = (
    "a story like this one usually needs emergency care (a learned check of the whole story)"
)
# the emergency raise also needs a story of this many words (a one-line question is outside the
# training stories); chosen by leave-one-set-out (docs/TRIAGE.md, "Round 10 (the learned net)")
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


def train(
    embedder: Any,
    exclude: set[str],
    *,
    c: float = C,
    threshold: float = THRESHOLD,
    emergency_threshold: float | None = EMERGENCY_THRESHOLD,
    self_care_threshold: float | None = SELF_CARE_THRESHOLD,
    emergency_min_words: int = EMERGENCY_MIN_WORDS,
    sets: tuple[str, ...] = TRAIN_SETS,
) -> dict[str, Any]:
    from sklearn import __version__ as sklearn_version
    from sklearn.linear_model import LogisticRegression

    texts, gold, sources = training_rows(exclude, sets)
    x = features_many(embedder, texts)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    model.fit(x, gold)
    order = [list(model.classes_).index(level) for level in LEVELS]
    counts = {level: gold.count(level) for level in LEVELS}
    return {
        "what": "triage safety net: logistic regression over the story's MiniLM embedding "
        "(tools/triage/classifier.py); it may raise a level: to urgent, or to emergency when confident of an emergency; "
        "and where every relevant warning sign was answered no, it may turn the catch-all 'see your doctor' into home care",
        "licence": "Apache-2.0 (weights learnt from the project's own vignette sets)",
        "command": "python -m assistant.evals.triage_train"
        + (" --extra" if set(sets) - set(TRAIN_SETS) else "")
        + "".join(f" --exclude {e}" for e in sorted(exclude)),
        "trained_on": sources,
        "n": len(gold),
        "per_level": counts,
        "sklearn": sklearn_version,
        "C": c,
        "class_weight": "balanced",
        "embedder": embedder.name,
        "dim": int(embedder.dim),
        "classes": list(LEVELS),
        "raise_to": "urgent",
        "positive": ["emergency", "urgent"],
        "threshold": threshold,
        "reason": REASON,
        "emergency_threshold": emergency_threshold,
        "emergency_reason": EMERGENCY_REASON,
        "emergency_min_words": emergency_min_words,
        "self_care_threshold": self_care_threshold,
        "self_care_reason": SELF_CARE_REASON,
        "self_care_blockers": list(SELF_CARE_BLOCKERS),
        "intercept": [round(float(model.intercept_[i]), 6) for i in order],
        "coef": [[round(float(w), 6) for w in model.coef_[i]] for i in order],
    }


def main(argv: list[str] | None = None) -> int:
    from assistant.core.config import load_settings
    from assistant.core.embeddings import build_embedder

    ap = argparse.ArgumentParser(prog="python -m assistant.evals.triage_train", description=__doc__)
    ap.add_argument("--exclude", action="append", default=[], choices=TRAIN_SETS + EXTRA_SETS)
    ap.add_argument("--out", type=Path, default=DATA_DIR / FILE_NAME)
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
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
    ap.add_argument(
        "--extra",
        action="store_true",
        help="train on the later sets g, h and i too (and, with --folds, hold each out in turn)",
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
        "threshold": args.threshold,
        "emergency_threshold": None if args.emergency_threshold > 1 else args.emergency_threshold,
        "self_care_threshold": None if args.self_care_threshold > 1 else args.self_care_threshold,
        "emergency_min_words": args.emergency_min_words,
        "sets": TRAIN_SETS + (EXTRA_SETS if args.extra else ()),
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
    """Readable provenance, one line per weight row."""
    head = {k: v for k, v in out.items() if k != "coef"}
    rows = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in out["coef"])
    return json.dumps(head, indent=1)[:-2] + f',\n "coef": [\n  {rows}\n ]\n}}\n'


def _write(out: dict[str, Any], path: Path) -> None:
    text = dumps(out)
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    print(f"triage classifier: {out['n']} stories {out['per_level']} -> {path} ({digest})")


if __name__ == "__main__":
    sys.exit(main())
