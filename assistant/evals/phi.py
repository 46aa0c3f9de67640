"""`clinassist eval phi`: PHI de-identification measured on the project's PHI sets, or on any file
in the same format (``--set FILE``).

The sets hold synthetic notes and chat messages with span-level gold (``[[TYPE:text]]``) and
clinical words that must survive (``((text))``). ``phi_set.txt`` is split dev / test by a
seeded hash of each item's id; ``phi_heldout.txt`` was written after round 1. History, so every
number can be labelled: round 1 tuned on dev and scored test once; round 2 tuned on dev and
test and scored the held-out set once; round 3 tuned on dev only, scored test and held-out once
(the **first look**, kept in ``phi_first_look.json``), then tuned on everything. **Every shipped set is
development data now**: their rows are tuned-on figures. A set written outside this work and
scored once with ``--set`` is the held-out estimate.

Systems, all in one run on the same items:

- ``baseline``: the cue-word regexes as shipped before the library (frozen in
  ``assistant/data/eval/phi_baseline_rules.yaml``);
- ``rules``: the project's recognizers alone (what runs when Presidio cannot load);
- ``presidio``: Presidio's analyzer alone (spaCy NER, phone numbers, dates, IP, SSN, NHS, with
  the clinical-term check), the library baseline;
- ``library``: Presidio's analyzer with the context name recognizer (``phi_context``) alone;
- ``combined``: both, as ``safety.redact_phi`` does (the default).

Scoring: a gold span is *found* when every letter and digit of it is inside a detected span (a
partly redacted name still leaks); recall per type. A detected span is *correct* when it
overlaps any gold span; precision over all detected spans and per type (a detected span's kind
mapped to the gold types: MRN, NHS, SSN ... are ID; DOB is DATE; ZIP is ADDRESS). A clinical
term is *kept* when no character of it is redacted.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import UserError
from assistant.evals import phi_openi as eval_phi_openi
from assistant.policy import phi

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
ROUND2_HELDOUT: dict[str, Any] = {
    "recall": {"NAME": 0.932, "ID": 0.917},
    "precision": 0.946,
    "clinical_terms_kept": 0.974,
}
"""Round 2's only score on the held-out set, before round 3 (kept for the record)."""
KIND_TYPES = {
    "MRN": "ID",
    "NHS": "ID",
    "SSN": "ID",
    "HEALTH_PLAN": "ID",
    "ACCOUNT": "ID",
    "LICENSE": "ID",
    "VEHICLE": "ID",
    "DEVICE": "ID",
    "IP": "ID",
    "DOB": "DATE",
    "ZIP": "ADDRESS",
}
"""Detected kinds as gold types, for precision per type."""
_MARK = re.compile(r"\[\[([A-Za-z_]+)\s*:(.+?)\]\]|\(\((.+?)\)\)")


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
            gold_type = m.group(1).upper()
            if gold_type not in TYPES:
                raise ValueError(
                    f"unknown type [[{m.group(1)}:...]]; the types are {', '.join(TYPES)}"
                )
            if "[[" in body:
                raise ValueError(f"unclosed [[...]] before {body[:30]!r}")
            item.gold.append((pos, pos + len(body), gold_type))
        else:
            item.protected.append((pos, pos + len(body)))
        out.append(body)
        pos += len(body)
        last = m.end()
    out.append(marked[last:])
    item.text = "".join(out)
    for mark in ("[[", "]]"):
        if mark in item.text:
            at = item.text.index(mark)
            raise ValueError(f"unbalanced {mark} near {item.text[max(0, at - 10) : at + 20]!r}")
    return item


def load_items(name: str = "phi_set.txt", prefix: str = "phi") -> list[Item]:
    """A shipped set (``assistant/data/eval``)."""
    text = resources.files("assistant.data.eval").joinpath(name).read_text(encoding="utf-8")
    return parse_file(text, name, prefix)


def load_file(path: Path) -> list[Item]:
    """Any set in the shipped format (``--set FILE``); one clear error when it is not."""
    if not path.is_file():
        raise UserError(f"--set {path}: no such file; give a PHI set (KIND<TAB>TEXT lines)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--set {path}: cannot read it as UTF-8 text ({exc})") from exc
    items = parse_file(text, str(path), "set")
    if not items:
        raise UserError(f"--set {path}: no items; each line is 'KIND<TAB>text' (e.g. note, chat)")
    return items


_KIND = re.compile(r"[A-Za-z][\w-]*")


def parse_file(text: str, name: str, prefix: str) -> list[Item]:
    """Items of a set: ``KIND<TAB>text`` per line, ``#`` comments and blank lines skipped.
    KIND is a word (the shipped sets use ``note`` and ``chat``); it is kept, not scored."""
    items = []
    n = 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        n += 1
        kind, tab, body = line.partition("\t")
        kind = kind.strip()
        if not tab or not _KIND.fullmatch(kind) or not body.strip():
            raise UserError(
                f"{name} line {number}: expected 'KIND<TAB>text' (e.g. 'note<TAB>...'), "
                f"got {line[:40]!r}"
            )
        try:
            items.append(parse(f"{prefix}-{n:03d}", kind, body))
        except ValueError as exc:
            raise UserError(f"{name} line {number}: {exc}") from exc
    return items


def baseline_rules() -> tuple[phi.Rule, ...]:
    raw = phi._data("phi_baseline_rules.yaml", "assistant.data.eval")
    return phi.compile_rules(raw)


def systems() -> dict[str, Callable[[str], list[phi.Span]]]:
    base = baseline_rules()
    return {
        "baseline": lambda t: phi.merge(phi.rule_spans(t, base)),
        "rules": lambda t: phi.detect(t, library=False),
        "presidio": lambda t: phi.merge([s for s in phi.LIBRARY.spans(t) if s.source == "library"]),
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
            for key in (sp.kind, "type:" + KIND_TYPES.get(sp.kind, sp.kind)):
                tally = by_kind.setdefault(key, [0, 0])
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
        "precision_by_kind": {
            k: rate(v[0], v[1]) for k, v in sorted(by_kind.items()) if not k.startswith("type:")
        },
        "precision_by_type": {t: rate(*by_kind.get("type:" + t, [0, 0])) for t in TYPES},
        "detected_by_type": {t: by_kind.get("type:" + t, [0, 0])[1] for t in TYPES},
        "clinical_terms_kept": rate(kept, protected),
        "clinical_terms": protected,
        "ms_per_item_p50": round(statistics.median(times), 2) if times else None,
        "ms_per_item_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2) if times else None,
        "misses": misses,
        "false_positives": false_pos,
    }


def development_splits() -> dict[str, list[Item]]:
    items = load_items()
    return {
        "dev": [i for i in items if i.split == "dev"],
        "test": [i for i in items if i.split == "test"],
        "heldout": load_items("phi_heldout.txt", "phi-h"),
    }


def evaluate(
    settings: Settings, out_dir: Path, echo: Echo, *, set_file: Path | None = None
) -> dict[str, Any]:
    """Every system on every split, one run: the shipped development sets, or (``set_file``)
    one file scored whole as a test set."""
    if set_file is not None:
        splits = {"set": load_file(set_file)}
        described = str(set_file)
        tuned_on: list[str] = []
    else:
        splits = development_splits()
        splits["all"] = [i for name in ("dev", "test", "heldout") for i in splits[name]]
        described = "assistant/data/eval/phi_set.txt + phi_heldout.txt"
        tuned_on = ["dev", "test", "heldout", "all"]
    start = time.perf_counter()
    library = phi.LIBRARY.load()
    load_s = round(time.perf_counter() - start, 2)
    target_split = "set" if set_file is not None else "all"
    report: dict[str, Any] = {
        "set": described,
        "mode": "set" if set_file is not None else "development",
        "n_items": len(splits["set"]) if set_file is not None else len(splits["all"]),
        "split_sizes": {k: len(v) for k, v in splits.items()},
        "split_seed": SEED,
        "detector": (
            "presidio-analyzer + "
            + phi.SPACY_MODEL
            + (" + name vocabulary (Faker)" if phi.LIBRARY.context_names else "")
            if library
            else phi.LIBRARY.error
        ),
        "library_load_s": load_s,
        "tuned_on": tuned_on,
        "target": {"types": list(TARGET_TYPES), "recall": TARGET_RECALL, "split": target_split},
    }
    for name, fn in systems().items():
        if name in ("presidio", "library", "combined") and not library:
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
    texts = eval_phi_openi.reports() if set_file is None else None
    if texts:
        report["openi"] = {
            name: eval_phi_openi.over_redaction(texts, fn)
            for name, fn in systems().items()
            if name in report
        }
        for name, m in report["openi"].items():
            echo(f"phi[{name}/openi]: {m['per_100_reports']} wrong redactions per 100 reports")
    best = report.get("combined") or report["rules"]
    scored = best[target_split]
    report["targets_met"] = {
        t: (scored["recall"][t] or 0) >= TARGET_RECALL for t in TARGET_TYPES if scored["gold"][t]
    }
    label = "the set" if set_file is not None else "development sets, tuned on"
    echo(
        f"phi targets ({label}): "
        + ", ".join(f"{t} {'ok' if ok else 'MISSED'}" for t, ok in report["targets_met"].items())
    )
    if set_file is not None:  # scored once: the whole table on the terminal
        echo("")
        echo(render_markdown(report))
    return report


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


_LABELS = {
    "baseline": "cue-word regexes (before, baseline)",
    "rules": "project recognizers alone",
    "presidio": "Presidio alone (spaCy NER, phones, dates, SSN, NHS, IP)",
    "library": "Presidio + context names alone",
    "combined": "**Presidio + context names + project recognizers (default)**",
}
_TAGS = {
    "set": "**whole set**",
    "all": "all (tuned on)",
    "heldout": "held-out set (tuned on)",
    "test": "test (tuned on)",
    "dev": "dev (tuned on)",
}


def render_markdown(metrics: dict[str, Any]) -> str:
    """The PHI tables for the docs, from `eval-out/phi.json`."""
    sizes = metrics["split_sizes"]
    splits = [k for k in _TAGS if k in sizes]
    if metrics.get("mode") == "set":
        intro = (
            f"Set: `{metrics['set']}` ({metrics['n_items']} items), every item scored (no "
            "split). Its figures are a held-out estimate only if the detector was never tuned "
            "on this file."
        )
    else:
        intro = (
            f"Sets: `{metrics['set']}` (dev {sizes['dev']}, test {sizes['test']}, held-out "
            f"{sizes['heldout']} items), written by the project (synthetic), as they are now. "
            "**Every row here is a tuned-on figure**: all three sets have been looked at and "
            "tuned on since the first look above (history below). Held-out estimates: the "
            "first look, and a set written outside this work scored once with `clinassist "
            "eval phi --set FILE`."
        )
    lines = [
        intro + f" Detector: {metrics['detector']} (loaded in {metrics['library_load_s']} s, "
        "shared machine).",
        "",
        "Recall per type:",
        "",
        "| system | split | names | dates | ages > 89 | ids | phones | e-mail | URLs | addresses "
        "| names+dates+ids | precision | clinical terms kept | ms/item (p50) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    target = metrics["target"]["split"]
    for name, label in _LABELS.items():  # every split for the default, the whole for the rest
        for split in (splits if name == "combined" else [target]) if name in metrics else []:
            m = metrics[name][split]
            lines.append(
                f"| {label} | {_TAGS[split]} | "
                + " | ".join(_pct(m["recall"][t]) for t in TYPES)
                + f" | {_pct(m['recall_names_dates_identifiers'])} | {_pct(m['precision'])} "
                f"| {_pct(m['clinical_terms_kept'])} | {m['ms_per_item_p50']} |"
            )
    lines += [
        "",
        "Precision per type (detected spans that overlap a gold span; in brackets, how many "
        "were detected):",
        "",
        "| system | split | " + " | ".join(t.lower() for t in TYPES) + " |",
        "|---|---|" + "---|" * len(TYPES),
    ]
    for name in ("combined", "presidio", "baseline"):
        for split in [target] if name in metrics else []:
            m = metrics[name][split]
            cells = [
                f"{_pct(m['precision_by_type'][t])} ({m['detected_by_type'][t]})"
                if m["detected_by_type"][t]
                else "-"
                for t in TYPES
            ]
            lines.append(f"| {_LABELS[name]} | {_TAGS[split]} | " + " | ".join(cells) + " |")
    best = metrics.get("combined") or metrics.get("rules")
    if best:
        scored = best[target]
        gold = scored["gold"]
        lines += [
            "",
            f"Gold spans ({_TAGS[target].strip('*')}): "
            + ", ".join(f"{t} {gold[t]}" for t in TYPES)
            + f". Target: recall >= {TARGET_RECALL:.2f} for names, dates and identifiers: "
            + ", ".join(
                f"{t} {'met' if ok else 'missed'}" for t, ok in metrics["targets_met"].items()
            )
            + ".",
        ]
        misses = [m for m in scored["misses"] if m["type"] != "CLINICAL_DESTROYED"]
        destroyed = [m for m in scored["misses"] if m["type"] == "CLINICAL_DESTROYED"]
        if misses:
            lines.append(
                "Misses (default): " + "; ".join(f"{m['type']} `{m['text']}`" for m in misses) + "."
            )
        if destroyed:
            lines.append(
                "Clinical terms redacted (default): "
                + "; ".join(f"`{m['text']}`" for m in destroyed)
                + "."
            )
        if scored["false_positives"]:
            lines.append(
                "False positives (default): "
                + "; ".join(f"{m['kind']} `{m['text']}`" for m in scored["false_positives"])
                + "."
            )
    if metrics.get("openi"):
        lines += ["", *eval_phi_openi.render(metrics["openi"], _LABELS)]
    if metrics.get("mode") != "set":
        lines[:0] = [*_first_look_table(), ""]
        lines += ["", _history()]
    return "\n".join(lines)


def first_look() -> dict[str, Any]:
    """Round 3's first look (``phi_first_look.json``): the leave-one-set-out estimate."""
    text = resources.files("assistant.data.eval").joinpath("phi_first_look.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _first_look_table() -> list[str]:
    fl = first_look()
    lines = [
        f"**Leave-one-set-out (the honest estimate).** The detector as it stood at commit "
        f"{fl['commit']} (round 3's mechanisms tuned on the dev split only), scored once on the "
        "two sets it had not been tuned on in this round, before their misses were read; the "
        "held-out set had never been tuned on (fresh), the test split had been in round 2 (not "
        "fresh). Recorded in `assistant/data/eval/phi_first_look.json`.",
        "",
        "| system | set | names | dates | ages > 89 | ids | phones | e-mail | URLs | addresses "
        "| names+dates+ids | precision | clinical terms kept |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tags = {"heldout": "**held-out set (left out)**", "test": "test (tuned on in round 2)"}
    for name in ("combined", "presidio", "rules", "baseline"):
        for split, tag in tags.items():
            m = fl["systems"][name][split]
            lines.append(
                f"| {_LABELS[name]} | {tag} | "
                + " | ".join(_pct(m["recall"][t]) for t in TYPES)
                + f" | {_pct(m['names_dates_ids'])} | {_pct(m['precision'])} "
                f"| {_pct(m['clinical_terms_kept'])} |"
            )
    return lines


def _history() -> str:
    r1, r2 = ROUND1_TEST, ROUND2_HELDOUT
    return (
        f"History. Round 1 (commit {r1['commit']}), tuned on dev, test scored once: names "
        f"{_pct(r1['recall']['NAME'])}, dates {_pct(r1['recall']['DATE'])}, ids "
        f"{_pct(r1['recall']['ID'])}, phones {_pct(r1['recall']['PHONE'])}; precision "
        f"{_pct(r1['precision'])}. Round 2, tuned on dev and test, held-out set scored once: "
        f"names {_pct(r2['recall']['NAME'])}, ids {_pct(r2['recall']['ID'])}; precision "
        f"{_pct(r2['precision'])}, clinical terms kept {_pct(r2['clinical_terms_kept'])}. "
        "Round 3: first look above; the development rows were then tuned on every set."
    )
