"""Gold annotations: an inline markup for writing them, JSONL for storing them, and scoring.

Markup (used to write and review annotations; see docs/NER.md for the guideline)::

    No [[pneumothorax|FINDING|neg]]. Small left [[pleural effusion|FINDING]].

Modifier codes: ``neg`` negated, ``unc`` uncertain (incl. hypothetical), ``hist`` historical,
``fam`` family. Stored JSONL, one document a line::

    {"id": "...", "source": "radlabels:synth_0002" | "written", "split": "dev" | "test",
     "text": "...", "entities": [{"start": 3, "end": 15, "label": "FINDING", "negated": true,
     "uncertain": false, "historical": false, "family": false}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from knowledge.nlp.lexicon import DATA_DIR, LABELS

GOLD_DIR = DATA_DIR / "gold"
MODIFIERS = {"neg": "negated", "unc": "uncertain", "hist": "historical", "fam": "family"}
_MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z]+)(?:\|([a-z,]*))?\]\]")


def parse_markup(marked: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities (character offsets into the plain text) from markup."""
    out: list[str] = []
    ents: list[dict[str, Any]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(marked):
        before = marked[pos : m.start()]
        out.append(before)
        length += len(before)
        text, label, mods = m.group(1), m.group(2), m.group(3) or ""
        if label not in LABELS:
            raise ValueError(
                f"unknown label {label!r} in {m.group(0)!r}: valid: {', '.join(LABELS)}"
            )
        flags = [f for f in mods.split(",") if f]
        bad = [f for f in flags if f not in MODIFIERS]
        if bad:
            raise ValueError(
                f"unknown modifier(s) {bad} in {m.group(0)!r}: valid: {', '.join(MODIFIERS)}"
            )
        ent: dict[str, Any] = {"start": length, "end": length + len(text), "label": label}
        for code, name in MODIFIERS.items():
            ent[name] = code in flags
        ents.append(ent)
        out.append(text)
        length += len(text)
        pos = m.end()
    out.append(marked[pos:])
    return "".join(out), ents


def render_markup(text: str, ents: Iterable[dict[str, Any]]) -> str:
    """The inverse of :func:`parse_markup` (non-overlapping entities)."""
    parts: list[str] = []
    pos = 0
    for e in sorted(ents, key=lambda e: e["start"]):
        if e["start"] < pos:
            continue
        flags = [code for code, name in MODIFIERS.items() if e.get(name)]
        parts.append(text[pos : e["start"]])
        tail = f"|{','.join(flags)}" if flags else ""
        parts.append(f"[[{text[e['start'] : e['end']]}|{e['label']}{tail}]]")
        pos = e["end"]
    parts.append(text[pos:])
    return "".join(parts)


def load_gold(split: str, gold_dir: Path = GOLD_DIR) -> list[dict[str, Any]]:
    """Documents of one split (``dev`` or ``test``)."""
    if split not in ("dev", "test"):
        raise ValueError(f"unknown split {split!r}: use dev or test")
    path = gold_dir / f"ner_{split}.jsonl"
    docs = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    for doc in docs:
        for e in doc["entities"]:
            if doc["text"][e["start"] : e["end"]] != e.get(
                "text", doc["text"][e["start"] : e["end"]]
            ):
                raise ValueError(f"{doc['id']}: entity text does not match its offsets")
    return docs


# ---------------------------------------------------------------- scoring


def prf(tp: float, fp: float, fn: float) -> dict[str, float]:
    """Precision, recall and F1 (rounded to 3) with the counts they come from."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f, 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def match(
    gold: list[dict[str, Any]], pred: list[dict[str, Any]], *, exact: bool
) -> list[tuple[int, int]]:
    """One-to-one pairs (gold index, predicted index) with the same label, exact or overlapping."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if pi in used or p["label"] != g["label"]:
                continue
            ok = (p["start"], p["end"]) == (g["start"], g["end"]) if exact else _overlaps(g, p)
            if ok:
                pairs.append((gi, pi))
                used.add(pi)
                break
    return pairs


def score(docs: list[dict[str, Any]], predictions: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Per-label P/R/F1 (exact and overlap) and modifier accuracy on matched FINDINGs."""
    counts: dict[str, dict[str, dict[str, int]]] = {
        mode: {lab: {"tp": 0, "fp": 0, "fn": 0} for lab in (*LABELS, "ALL")}
        for mode in ("exact", "overlap")
    }
    mods = {
        name: {"correct": 0, "total": 0, "gold_true": 0, "tp": 0, "fp": 0, "fn": 0}
        for name in MODIFIERS.values()
    }
    errors: list[dict[str, Any]] = []
    for doc, pred in zip(docs, predictions, strict=True):
        gold = doc["entities"]
        for mode in ("exact", "overlap"):
            pairs = match(gold, pred, exact=mode == "exact")
            matched_g = {g for g, _ in pairs}
            matched_p = {p for _, p in pairs}
            for lab in LABELS:
                c = counts[mode][lab]
                c["tp"] += sum(1 for g, _ in pairs if gold[g]["label"] == lab)
                c["fn"] += sum(
                    1 for i, g in enumerate(gold) if i not in matched_g and g["label"] == lab
                )
                c["fp"] += sum(
                    1 for i, p in enumerate(pred) if i not in matched_p and p["label"] == lab
                )
            if mode == "overlap":
                for gi, pi in pairs:
                    if gold[gi]["label"] != "FINDING":
                        continue
                    for name, m in mods.items():
                        gv, pv = bool(gold[gi].get(name)), bool(pred[pi].get(name))
                        m["total"] += 1
                        m["correct"] += gv == pv
                        m["gold_true"] += gv
                        m["tp"] += gv and pv
                        m["fp"] += pv and not gv
                        m["fn"] += gv and not pv
                        if gv != pv and name in ("negated", "uncertain"):
                            errors.append(
                                {
                                    "doc": doc["id"],
                                    "text": doc["text"][gold[gi]["start"] : gold[gi]["end"]],
                                    "modifier": name,
                                    "gold": gv,
                                    "pred": pv,
                                }
                            )
                for i, g in enumerate(gold):
                    if i not in matched_g and g["label"] == "FINDING":
                        errors.append(
                            {
                                "doc": doc["id"],
                                "text": doc["text"][g["start"] : g["end"]],
                                "error": "missed FINDING",
                            }
                        )
                for i, p in enumerate(pred):
                    if i not in matched_p and p["label"] == "FINDING":
                        errors.append(
                            {"doc": doc["id"], "text": p["text"], "error": "spurious FINDING"}
                        )
    result: dict[str, Any] = {"n_docs": len(docs)}
    for mode in ("exact", "overlap"):
        total = {"tp": 0, "fp": 0, "fn": 0}
        per: dict[str, Any] = {}
        for lab in LABELS:
            c = counts[mode][lab]
            for k in total:
                total[k] += c[k]
            per[lab] = prf(c["tp"], c["fp"], c["fn"])
        per["micro"] = prf(total["tp"], total["fp"], total["fn"])
        result[mode] = per
    result["modifiers"] = {
        name: {
            "accuracy": round(m["correct"] / m["total"], 3) if m["total"] else None,
            "n": m["total"],
            "gold_positive": m["gold_true"],
            **{
                k: v
                for k, v in prf(m["tp"], m["fp"], m["fn"]).items()
                if k in ("precision", "recall", "f1")
            },
        }
        for name, m in mods.items()
    }
    result["errors"] = errors
    return result


# ---------------------------------------------------------------- building the JSONL from markup


def radlabels_reports_dir() -> Path:
    """radlabels' synthetic reports folder, found without importing the package."""
    from knowledge.nlp.lexicon import package_dir

    return package_dir("radlabels") / "samples" / "synthetic_reports"


def _report_blocks(marked: str) -> list[tuple[str, str]]:
    blocks = []
    for chunk in re.split(r"^### ", marked, flags=re.M):
        if not chunk.strip():
            continue
        ident, _, body = chunk.partition("\n")
        blocks.append((ident.strip(), body.rstrip("\n")))
    return blocks


def build_gold(
    src_dir: Path = GOLD_DIR / "src", out_dir: Path = GOLD_DIR, *, check_source: bool = True
) -> dict[str, int]:
    """Write ``ner_dev.jsonl`` / ``ner_test.jsonl`` from the markup files in ``src_dir``."""
    counts: dict[str, int] = {}
    reports = radlabels_reports_dir() if check_source else None
    for split in ("dev", "test"):
        docs: list[dict[str, Any]] = []
        for ident, body in _report_blocks(
            (src_dir / f"reports_{split}.txt").read_text(encoding="utf-8")
        ):
            text, ents = parse_markup(body)
            if reports is not None:
                original = (reports / f"{ident}.txt").read_text(encoding="utf-8").rstrip("\n")
                if original != text:
                    raise ValueError(f"{ident}: annotated text differs from the radlabels report")
            docs.append(
                {
                    "id": ident,
                    "source": f"radlabels==0.2.0:{ident}",
                    "split": split,
                    "text": text,
                    "entities": ents,
                }
            )
        lines = (src_dir / f"sentences_{split}.txt").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(x for x in lines if x.strip()):
            text, ents = parse_markup(line)
            docs.append(
                {
                    "id": f"sent_{split}_{i + 1:02d}",
                    "source": "written",
                    "split": split,
                    "text": text,
                    "entities": ents,
                }
            )
        for doc in docs:
            for e in doc["entities"]:
                e["text"] = doc["text"][e["start"] : e["end"]]
        (out_dir / f"ner_{split}.jsonl").write_text(
            "".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8"
        )
        counts[split] = len(docs)
    return counts


if __name__ == "__main__":
    print(build_gold())


# ---------------------------------------------------------------- abbreviations

_ABBREV = re.compile(r"[A-Z][A-Z0-9/]{1,4}")
HEADER_WORDS = frozenset({"CHEST", "LUNGS", "HEART", "BONES", "PLEURA", "VIEWS"})


def abbreviation_recall(
    docs: list[dict[str, Any]], predictions: list[list[dict[str, Any]]], table: Iterable[str]
) -> dict[str, Any]:
    """Recall on gold entities written as abbreviations (2–5 capitals, not a header word), split
    by whether the abbreviation is a key of ``abbreviations.txt``: those in the table were put
    there by the people who wrote these test sentences (tuned-on); the others are held out."""
    keys = set(table)
    counts = {"in_table": [0, 0], "not_in_table": [0, 0]}
    missed: list[str] = []
    for doc, pred in zip(docs, predictions, strict=True):
        for g in doc["entities"]:
            text = doc["text"][g["start"] : g["end"]]
            if not _ABBREV.fullmatch(text) or text in HEADER_WORDS:
                continue
            key = "in_table" if text in keys else "not_in_table"
            found = any(p["label"] == g["label"] and _overlaps(g, p) for p in pred)
            counts[key][0] += found
            counts[key][1] += 1
            if not found:
                missed.append(f"{doc['id']}:{text}")
    return {
        k: {"found": f, "total": n, "recall": round(f / n, 3) if n else None}
        for k, (f, n) in counts.items()
    } | {"missed": missed}
