"""`clinassist eval phi`: PHI de-identification measured on ``assistant/data/eval/phi_set.txt``.

The sets hold synthetic notes and chat messages with span-level gold (``[[TYPE:text]]``) and
clinical words that must survive (``((text))``). ``phi_set.txt`` is split dev / test by a
seeded hash of each item's id. History, so every number can be labelled: round 1 tuned the
rules on dev and scored test once (missed its targets); ``phi_heldout.txt`` was then written,
round 2 tuned on dev and test, and the held-out set was scored once. So dev and test are
tuned-on figures now, and ``heldout`` is the held-out estimate.

Systems, all in one run on the same items:

- ``baseline``: the cue-word regexes as shipped before the library (frozen in
  ``assistant/data/eval/phi_baseline_rules.yaml``);
- ``rules``: the project's recognizers alone (what runs when Presidio cannot load);
- ``library``: Presidio's analyzer alone (spaCy NER, phone numbers, dates, IP, SSN, NHS);
- ``combined``: both, as ``safety.redact_phi`` does (the default).

Scoring: a gold span is *found* when every letter and digit of it is inside a
detected span (a partly redacted name still leaks); recall per type. A detected span is
*correct* when it overlaps any gold span; precision over all detected spans. A clinical term is
*kept* when no character of it is redacted.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from assistant import phi
from assistant.config import Settings

Echo = Callable[[str], None]

SEED = 17
TEST_FRACTION = 0.5
TYPES = ("NAME", "DATE", "AGE", "ID", "PHONE", "EMAIL", "URL", "ADDRESS")
TARGET_TYPES = ("NAME", "DATE", "ID", "PHONE", "EMAIL", "URL")
"""Names, dates and identifiers: the types with a recall target (>= 0.95 on test)."""
TARGET_RECALL = 0.95
ROUND1_TEST: dict[str, Any] = {
    "commit": "eba2894",
    "recall": {"NAME": 0.8481, "DATE": 0.8636, "ID": 0.8, "PHONE": 0.9333},
    "recall_all": 0.8701,
    "precision": 0.9695,
}
"""Round 1's only score on the test split, before round 2 tuned on it (kept for the record)."""
_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]|\(\((.+?)\)\)")


@dataclass
class Item:
    id: str
    kind: str
    text: str
    gold: list[tuple[int, int, str]] = field(default_factory=list)
    protected: list[tuple[int, int]] = field(default_factory=list)

    @property
    def split(self) -> str:
        digest = hashlib.sha256(f"{SEED}:{self.id}".encode()).digest()
        return "test" if digest[0] / 256 < TEST_FRACTION else "dev"


def parse(item_id: str, kind: str, marked: str) -> Item:
    """An item from marked-up text (gold spans and protected terms in plain-text offsets)."""
    out: list[str] = []
    item = Item(item_id, kind, "")
    pos = last = 0
    for m in _MARK.finditer(marked):
        out.append(marked[last : m.start()])
        pos += m.start() - last
        body = m.group(2) if m.group(1) else m.group(3)
        if m.group(1):
            if m.group(1) not in TYPES:
                raise ValueError(f"phi item {item_id}: unknown type {m.group(1)}")
            item.gold.append((pos, pos + len(body), m.group(1)))
        else:
            item.protected.append((pos, pos + len(body)))
        out.append(body)
        pos += len(body)
        last = m.end()
    out.append(marked[last:])
    item.text = "".join(out)
    return item


def load_items(name: str = "phi_set.txt", prefix: str = "phi") -> list[Item]:
    text = resources.files("assistant.data.eval").joinpath(name).read_text(encoding="utf-8")
    items = []
    n = 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        n += 1
        kind, _, body = line.partition("\t")
        if kind not in ("note", "chat") or not body:
            raise ValueError(f"{name} item {n}: expected 'note|chat<TAB>text'")
        items.append(parse(f"{prefix}-{n:03d}", kind, body))
    return items


def baseline_rules() -> tuple[phi.Rule, ...]:
    raw = phi._data("phi_baseline_rules.yaml", "assistant.data.eval")
    return phi.compile_rules(raw)


def systems() -> dict[str, Callable[[str], list[phi.Span]]]:
    base = baseline_rules()
    return {
        "baseline": lambda t: phi.merge(phi.rule_spans(t, base)),
        "rules": lambda t: phi.detect(t, library=False),
        "library": lambda t: phi.detect(t, rules=False),
        "combined": lambda t: phi.detect(t),
    }


def _covered(spans: Sequence[phi.Span], start: int, end: int, text: str) -> bool:
    return all(
        any(s.start <= i < s.end for s in spans) for i in range(start, end) if text[i].isalnum()
    )


def _touched(spans: Sequence[phi.Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def score(items: Sequence[Item], detect: Callable[[str], list[phi.Span]]) -> dict[str, Any]:
    found = {t: 0 for t in TYPES}
    total = {t: 0 for t in TYPES}
    detected = correct = 0
    by_kind: dict[str, list[int]] = {}
    kept = protected = 0
    misses: list[dict[str, str]] = []
    false_pos: list[dict[str, str]] = []
    times: list[float] = []
    for item in items:
        start = time.perf_counter()
        spans = detect(item.text)
        times.append((time.perf_counter() - start) * 1000)
        for s, e, t in item.gold:
            total[t] += 1
            if _covered(spans, s, e, item.text):
                found[t] += 1
            else:
                misses.append({"id": item.id, "type": t, "text": item.text[s:e]})
        gold_spans = [phi.Span(s, e, t, "gold") for s, e, t in item.gold]
        for sp in spans:
            ok = _touched(gold_spans, sp.start, sp.end)
            detected += 1
            correct += ok
            tally = by_kind.setdefault(sp.kind, [0, 0])
            tally[0] += ok
            tally[1] += 1
            if not ok:
                false_pos.append(
                    {"id": item.id, "kind": sp.kind, "text": item.text[sp.start : sp.end]}
                )
        for s, e in item.protected:
            protected += 1
            if _touched(spans, s, e):
                misses.append({"id": item.id, "type": "CLINICAL_DESTROYED", "text": item.text[s:e]})
            else:
                kept += 1

    def rate(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    target_found = sum(found[t] for t in TARGET_TYPES)
    target_total = sum(total[t] for t in TARGET_TYPES)
    return {
        "n_items": len(items),
        "recall": {t: rate(found[t], total[t]) for t in TYPES},
        "gold": total,
        "recall_all": rate(sum(found.values()), sum(total.values())),
        "recall_names_dates_identifiers": rate(target_found, target_total),
        "precision": rate(correct, detected),
        "detected": detected,
        "precision_by_kind": {k: rate(v[0], v[1]) for k, v in sorted(by_kind.items())},
        "clinical_terms_kept": rate(kept, protected),
        "clinical_terms": protected,
        "ms_per_item_p50": round(statistics.median(times), 2) if times else None,
        "ms_per_item_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2) if times else None,
        "misses": misses,
        "false_positives": false_pos,
    }


def evaluate(settings: Settings, out_dir: Path, echo: Echo) -> dict[str, Any]:
    """Every system on the dev and the test split, one run."""
    items = load_items()
    splits = {
        "dev": [i for i in items if i.split == "dev"],
        "test": [i for i in items if i.split == "test"],
        "heldout": load_items("phi_heldout.txt", "phi-h"),
    }
    start = time.perf_counter()
    library = phi.LIBRARY.load()
    load_s = round(time.perf_counter() - start, 2)
    report: dict[str, Any] = {
        "set": "assistant/data/eval/phi_set.txt + phi_heldout.txt",
        "n_items": sum(len(v) for v in splits.values()),
        "split_sizes": {k: len(v) for k, v in splits.items()},
        "split_seed": SEED,
        "detector": "presidio-analyzer + " + phi.SPACY_MODEL if library else phi.LIBRARY.error,
        "library_load_s": load_s,
        "tuned_on": ["dev", "test"],
        "target": {"types": list(TARGET_TYPES), "recall": TARGET_RECALL, "split": "heldout"},
    }
    for name, fn in systems().items():
        if name in ("library", "combined") and not library:
            continue
        fn("warm up: John Smith, 3 March 2021.")
        report[name] = {split: score(chosen, fn) for split, chosen in splits.items()}
        for split in splits:
            m = report[name][split]
            echo(
                f"phi[{name}/{split}]: recall names {m['recall']['NAME']}, dates "
                f"{m['recall']['DATE']}, ids {m['recall']['ID']}, phones {m['recall']['PHONE']}, "
                f"all {m['recall_all']}; precision {m['precision']}; clinical terms kept "
                f"{m['clinical_terms_kept']}; {m['ms_per_item_p50']} ms/item"
            )
    best = report.get("combined") or report["rules"]
    test = best["heldout"]
    report["targets_met"] = {
        t: (test["recall"][t] or 0) >= TARGET_RECALL for t in TARGET_TYPES if test["gold"][t]
    }
    echo(
        "phi targets (held-out set): "
        + ", ".join(f"{t} {'ok' if ok else 'MISSED'}" for t, ok in report["targets_met"].items())
    )
    return report


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def render_markdown(metrics: dict[str, Any]) -> str:
    """The PHI tables for the docs, from `eval-out/phi.json`."""
    sizes = metrics["split_sizes"]
    lines = [
        f"Sets: `{metrics['set']}` ({metrics['n_items']} items: dev {sizes['dev']}, test "
        f"{sizes['test']}, held-out {sizes['heldout']}), written by the project (synthetic). "
        f"Detector: {metrics['detector']} (loaded in {metrics['library_load_s']} s, shared "
        "machine). Round 1 tuned the rules on dev and scored test once; round 2 tuned on dev "
        "and test, then the held-out set (written between the rounds) was scored once. **Only "
        "the held-out rows are held-out estimates**; dev and test rows are tuned-on figures.",
        "",
        "| system | split | names | dates | ages > 89 | ids | phones | e-mail | URLs | addresses "
        "| names+dates+ids | precision | clinical terms kept | ms/item (p50) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "baseline": "cue-word regexes (before, baseline)",
        "rules": "project recognizers alone",
        "library": "Presidio alone",
        "combined": "**Presidio + project recognizers (default)**",
    }
    tags = {"heldout": "**held-out**", "test": "test (tuned on, round 2)", "dev": "dev (tuned on)"}
    for name, label in labels.items():
        if name not in metrics:
            continue
        for split, tag in tags.items():
            m = metrics[name][split]
            r = m["recall"]
            lines.append(
                f"| {label} | {tag} | "
                + " | ".join(_pct(r[t]) for t in TYPES)
                + f" | {_pct(m['recall_names_dates_identifiers'])} | {_pct(m['precision'])} "
                f"| {_pct(m['clinical_terms_kept'])} | {m['ms_per_item_p50']} |"
            )
    r1 = ROUND1_TEST
    lines += [
        "",
        f"Round 1 (commit {r1['commit']}), the test split's only held-out score: names "
        f"{_pct(r1['recall']['NAME'])}, dates {_pct(r1['recall']['DATE'])}, ids "
        f"{_pct(r1['recall']['ID'])}, phones {_pct(r1['recall']['PHONE'])}; all identifiers "
        f"{_pct(r1['recall_all'])}, precision {_pct(r1['precision'])}.",
    ]
    best = metrics.get("combined") or metrics.get("rules")
    if best:
        held = best["heldout"]
        gold = held["gold"]
        lines += [
            "",
            "Recall is per gold span: every letter and digit of it must be redacted (a half-"
            "redacted name counts as a miss). Held-out gold spans: "
            + ", ".join(f"{t} {gold[t]}" for t in TYPES)
            + ". Precision: detected spans that overlap a gold span. Target (held-out recall >= "
            f"{TARGET_RECALL:.2f} for names, dates and identifiers): "
            + ", ".join(
                f"{t} {'met' if ok else 'missed'}" for t, ok in metrics["targets_met"].items()
            )
            + ".",
        ]
        misses = [m for m in held["misses"] if m["type"] != "CLINICAL_DESTROYED"]
        destroyed = [m for m in held["misses"] if m["type"] == "CLINICAL_DESTROYED"]
        if misses:
            lines.append(
                "Held-out misses (default): "
                + "; ".join(f"{m['type']} `{m['text']}`" for m in misses)
                + "."
            )
        if destroyed or held["false_positives"]:
            lines.append(
                "Held-out false positives: "
                + "; ".join(f"{m['kind']} `{m['text']}`" for m in held["false_positives"])
                + "."
            )
    return "\n".join(lines)
