"""The PHI sets' format (``[[TYPE:text]]`` gold spans, ``((text))`` clinical words that must
survive), loading and the seeded dev / test split, the systems compared, and the scoring
(recall per type, precision, clinical terms kept)."""

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

from assistant.core.errors import UserError
from assistant.policy import phi

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


SHIPPED_DEV_SETS = (
    "phi_blind",
    "phi_blind2",
    "phi_blind3",
    "phi_blind4",
    "phi_blind5",
    "phi_blind6",
    "phi_blind7",
)
"""Sets written by other authors, each scored once blind and then read: development data now,
shipped so a clone reproduces their figures; ``--set phi_blind2`` names one."""


def load_file(path: Path) -> list[Item]:
    """Any set in the shipped format (``--set FILE``), or a shipped development set by name
    (``--set phi_blind3``); one clear error when it is neither."""
    if not path.is_file() and path.parent == Path(".") and path.stem in SHIPPED_DEV_SETS:
        return load_items(path.stem + ".txt", path.stem)
    if not path.is_file():
        raise UserError(
            f"--set {path}: no such file; give a PHI set (KIND<TAB>TEXT lines) or the name of "
            f"a shipped one ({', '.join(SHIPPED_DEV_SETS)})"
        )
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
