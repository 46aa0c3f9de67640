"""The OpenI evaluation: report-level observations on real chest X-ray reports (Indiana University
collection, NLM Open-i) against NegBio's 14-finding gold (``examples/openi_gld_std14.csv``).

Protocol (docs/NER.md, "Observations on real reports"): the gold is binary, 1 = the finding is
present; NegBio and the ChestX-ray14 labeler rule out negated and uncertain mentions, so a finding
counts as predicted when its observation is ``positive`` (``uncertain`` counts as not present;
the other reading is reported beside it). Per-finding P/R/F1, micro and macro over the 14, the
split fixed in ``split.json`` before any report was read (dev: tuning; test: held out).
Baselines in the same run: medspaCy's default pipeline (PyRuSH, TargetMatcher, default ConText)
given the same target terms, and a bare keyword + negation-cue rule.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from spacy.language import Language

from knowledge.nlp.gold import prf
from knowledge.nlp.lexicon import DATA_DIR, CompiledLexicon
from knowledge.nlp.observations import FINDINGS, NO_FINDING, load_rules, observations
from knowledge.nlp.pipeline import entities

OPENI_DIR = DATA_DIR / "openi"
SPLITS = ("dev", "test")
SECTIONS = (
    ("indication", "INDICATION"),
    ("comparison", "COMPARISON"),
    ("findings", "FINDINGS"),
    ("impression", "IMPRESSION"),
)
NEGATION_CUES = ("no", "not", "without", "negative for", "free of", "clear of", "absence of")
# Published results of report labelers on OpenI (quoted; see docs/NER.md for the caveats).
PUBLISHED = [
    {
        "system": "ChestX-ray8 labeler (MetaMap + negation/uncertainty rules), Wang et al., CVPR 2017, Table 1",
        "data": "all 3,851 OpenI reports, 8 findings + normal",
        "precision": 0.90,
        "recall": 0.91,
        "f1": 0.90,
    },
    {
        "system": "MetaMap alone (same table)",
        "data": "all 3,851 OpenI reports, 8 findings + normal",
        "precision": 0.84,
        "recall": 0.88,
        "f1": 0.86,
    },
]
Predict = Callable[[list[str]], list[dict[str, str]]]


@lru_cache(maxsize=1)
def _rows(path: Path = OPENI_DIR / "reports.jsonl.gz") -> tuple[dict[str, Any], ...]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def held_out_ids(path: Path = OPENI_DIR / "split.json") -> frozenset[str]:
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["test"])


def load(split: str) -> list[dict[str, Any]]:
    """The reports of one split (``dev`` or ``test``), in id order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use dev or test")
    held_out = held_out_ids()
    return [r for r in _rows() if (r["id"] in held_out) == (split == "test")]


def report_text(record: dict[str, Any]) -> str:
    """The report as a radiologist's text: one headed paragraph per non-empty field."""
    parts = []
    for key, head in SECTIONS:
        value = str(record.get(key) or "").strip()
        if value:
            parts.append(f"{head}: {value}")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- systems


def target_terms(lexicon: CompiledLexicon) -> dict[str, list[str]]:
    """Finding -> the lexicon's surface terms whose concept counts for it (the same targets for
    both baselines), less the terms the mapping excludes."""
    rules = load_rules()
    out: dict[str, set[str]] = {f: set() for f in FINDINGS}
    for table in (lexicon.lower, lexicon.exact):
        for key, cid in table.items():
            concept = lexicon.concepts[cid]
            if concept.label != "FINDING":
                continue
            term = " ".join(key)
            for name in rules.by_concept.get(concept.normalized.lower(), ()):
                if not any(p.search(term.lower()) for p in rules.excluded[name]):
                    out[name].add(term)
    return {f: sorted(terms) for f, terms in out.items()}


def medspacy_baseline(lexicon: CompiledLexicon) -> Predict:
    """``medspacy.load()`` (PyRuSH sentences, TargetMatcher, ConText with medspaCy's default
    rules) with one TargetRule per target term, labelled by finding; same aggregation."""
    from knowledge.nlp.pipeline import silence_medspacy

    silence_medspacy()
    import medspacy
    from medspacy.ner import TargetRule

    nlp = medspacy.load()
    rules = [TargetRule(t, f) for f, terms in target_terms(lexicon).items() for t in terms]
    nlp.get_pipe("medspacy_target_matcher").add(rules)

    def predict(texts: list[str]) -> list[dict[str, str]]:
        out = []
        for doc in nlp.pipe(texts):
            mentions: dict[str, list[str]] = {}
            for ent in doc.ents:
                if ent._.is_family or ent._.is_historical:
                    continue
                status = (
                    "negative"
                    if ent._.is_negated
                    else "uncertain"
                    if ent._.is_uncertain or ent._.is_hypothetical
                    else "positive"
                )
                mentions.setdefault(ent.label_, []).append(status)
            out.append(_aggregate(mentions))
        return out

    return predict


def keyword_baseline(lexicon: CompiledLexicon) -> Predict:
    """A target term anywhere in a sentence; negated when a negation cue comes before it in the
    sentence. No uncertainty, no sections."""
    patterns = {
        f: re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])", re.I
        )
        for f, terms in target_terms(lexicon).items()
        if terms
    }
    cue = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in NEGATION_CUES) + r")\b", re.I)

    def predict(texts: list[str]) -> list[dict[str, str]]:
        out = []
        for text in texts:
            mentions: dict[str, list[str]] = {}
            for sent in re.split(r"(?<=[.!?])\s+|\n+", text):
                for name, pat in patterns.items():
                    for m in pat.finditer(sent):
                        negated = bool(cue.search(sent[: m.start()]))
                        mentions.setdefault(name, []).append("negative" if negated else "positive")
            out.append(_aggregate(mentions))
        return out

    return predict


def _aggregate(mentions: dict[str, list[str]]) -> dict[str, str]:
    rank = {"positive": 3, "uncertain": 2, "negative": 1}
    out = {}
    for name in FINDINGS:
        found = mentions.get(name, [])
        out[name] = max(found, key=rank.__getitem__) if found else "absent"
    return out


# ---------------------------------------------------------------- scoring


def score(
    records: list[dict[str, Any]],
    predicted: list[dict[str, str]],
    *,
    uncertain_positive: bool = False,
    findings: Iterable[str] = FINDINGS,
) -> dict[str, Any]:
    """Per-finding P/R/F1, micro over all, macro over the findings the gold marks at least once."""
    findings = tuple(findings)
    present = {"positive", "uncertain"} if uncertain_positive else {"positive"}
    counts = {f: [0, 0, 0] for f in findings}
    for rec, pred in zip(records, predicted, strict=True):
        for f in findings:
            p, g = pred.get(f) in present, bool(rec["labels"][f])
            counts[f][0] += p and g
            counts[f][1] += p and not g
            counts[f][2] += g and not p
    per = {f: prf(*c) for f, c in counts.items()}
    micro = prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    marked = [f for f in findings if per[f]["tp"] + per[f]["fn"] > 0]
    macro = round(sum(per[f]["f1"] for f in marked) / len(marked), 3) if marked else None
    return {"per_finding": per, "micro": micro, "macro_f1": macro, "macro_over": marked}


def no_finding_score(
    records: list[dict[str, Any]], predicted: list[dict[str, str]]
) -> dict[str, Any]:
    """Our No Finding against the gold's ``normal`` column (the gold's normal also excludes
    devices and any abnormality outside the 14: a looser match, reported apart)."""
    tp = fp = fn = 0
    for rec, pred in zip(records, predicted, strict=True):
        p, g = pred.get(NO_FINDING) == "positive", bool(rec["labels"]["normal"])
        tp, fp, fn = tp + (p and g), fp + (p and not g), fn + (g and not p)
    return prf(tp, fp, fn)


def misses(
    records: list[dict[str, Any]], predicted: list[dict[str, str]], evidence: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every false positive and false negative, with what the report said (error analysis)."""
    out = []
    for rec, pred, ev in zip(records, predicted, evidence, strict=True):
        for f in FINDINGS:
            p, g = pred.get(f) == "positive", bool(rec["labels"][f])
            if p != g:
                out.append(
                    {
                        "id": rec["id"],
                        "finding": f,
                        "gold": int(g),
                        "ours": pred.get(f, "absent"),
                        "error": "FP" if p else "FN",
                        "evidence": ev.get(f, []),
                    }
                )
    return out


# ---------------------------------------------------------------- the run


def disagreements(path: Path = OPENI_DIR / "disagreements.tsv") -> dict[tuple[str, str], str]:
    """(report id, finding) -> why we read the report differently from the gold (listed after
    reviewing misses; never used to change the system or the headline score)."""
    if not path.exists():
        return {}
    out: dict[tuple[str, str], str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rid, finding, _gold, why = ([*line.split("\t"), "", "", "", ""])[:4]
        out[(rid.strip(), finding.strip())] = why.strip()
    return out


def evaluate_openi(
    nlp: Language,
    lexicon: CompiledLexicon,
    echo: Callable[[str], None] = print,
    splits: tuple[str, ...] = SPLITS,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ours and both baselines on dev and test (same run); returns (metrics, misses)."""
    import time

    t0 = time.perf_counter()
    baselines = {
        "medspacy_default": medspacy_baseline(lexicon),
        "keyword": keyword_baseline(lexicon),
    }
    echo(f"openi: baselines built in {time.perf_counter() - t0:.1f} s")
    listed = disagreements()
    results: dict[str, Any] = {"published": PUBLISHED, "splits": {}}
    all_misses: list[dict[str, Any]] = []
    for split in splits:
        records = load(split)
        texts = [report_text(r) for r in records]
        t0 = time.perf_counter()
        obs = [observations(entities(doc)) for doc in nlp.pipe(texts, batch_size=64)]
        ours_s = time.perf_counter() - t0
        pred = [{o["finding"]: o["status"] for o in ob} for ob in obs]
        evidence = [{o["finding"]: [e["text"] for e in o["evidence"]] for o in ob} for ob in obs]
        res: dict[str, Any] = {
            "n_reports": len(records),
            "gold_positives": {f: sum(r["labels"][f] for r in records) for f in FINDINGS},
            "clinassist": score(records, pred),
            "clinassist_uncertain_as_positive": score(records, pred, uncertain_positive=True),
            "clinassist_without_hernia": score(
                records, pred, findings=[f for f in FINDINGS if f != "Hernia"]
            ),
            "no_finding_vs_normal": no_finding_score(records, pred),
            "reports_per_s": round(len(records) / max(ours_s, 1e-9), 1),
        }
        for name, predict in baselines.items():
            res[f"baseline_{name}"] = score(records, predict(texts))
        found = misses(records, pred, evidence)
        for m in found:
            m["split"] = split
            why = listed.get((m["id"], m["finding"]))
            if why:
                m["disagreement"] = why
        res["misses"] = len(found)
        res["misses_listed_as_gold_disagreements"] = sum("disagreement" in m for m in found)
        all_misses.extend(found)
        results["splits"][split] = res
        echo(
            f"openi [{split}] {len(records)} reports: ours micro F1 {res['clinassist']['micro']['f1']} "
            f"(P {res['clinassist']['micro']['precision']}, R {res['clinassist']['micro']['recall']}), "
            f"macro F1 {res['clinassist']['macro_f1']}; medspaCy default {res['baseline_medspacy_default']['micro']['f1']}; "
            f"keyword+negation {res['baseline_keyword']['micro']['f1']}; misses {len(found)} "
            f"({res['misses_listed_as_gold_disagreements']} listed as gold disagreements)"
        )
        per = res["clinassist"]["per_finding"]
        echo(
            "  per finding F1: "
            + ", ".join(f"{f} {per[f]['f1']}" for f in FINDINGS if per[f]["tp"] + per[f]["fn"])
        )
    return results, all_misses
