"""Over-redaction on real clinical text: PHI detection over OpenI chest X-ray reports.

The reports (Indiana University / Open-i, shipped for ``clinassist eval ner`` under
``knowledge/data/nlp/openi``) were de-identified by their publisher, who replaced every
identifier with ``XXXX``. Nothing left in them is an identifier, so every redaction that does not
touch a mask is a clinical or ordinary word taken for one: a measure of over-redaction on text
nobody on this project wrote. Redactions touching a mask ("Dr. XXXX") are not counted, so the
figure is a lower bound.

Which reports: the OpenI test split, less the reports among the first ``READ_ROWS`` rows of the
file, whose false redactions were read while the "ordinary words" check on NER persons was
written (``phi_context.NameFinder.ordinary``); the rest were never read for PHI work.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from assistant.policy import phi

READ_ROWS = 1000
"""Rows of ``reports.jsonl.gz`` whose false redactions were read during development."""
_MASK = re.compile(r"X{2,}")


def reports() -> list[str] | None:
    """Report texts of the unread test reports, or None when the OpenI copy is not shipped."""
    try:
        from knowledge.nlp import openi
    except Exception:  # pragma: no cover - the knowledge package or spaCy missing
        return None
    path = openi.OPENI_DIR / "reports.jsonl.gz"
    if not path.is_file():
        return None  # a redistribution without the CC BY-NC-ND file
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    test = openi.held_out_ids()
    return [openi.report_text(r) for r in rows[READ_ROWS:] if r["id"] in test]


def over_redaction(texts: Sequence[str], detect: Callable[[str], list[phi.Span]]) -> dict[str, Any]:
    """Redactions that touch no ``XXXX`` mask, per report and per word, with the commonest."""
    false = with_any = words = 0
    seen: Counter[str] = Counter()
    for text in texts:
        masks = [(m.start(), m.end()) for m in _MASK.finditer(text)]
        words += len(text.split())
        bad = [s for s in detect(text) if not any(s.start < e and b < s.end for b, e in masks)]
        false += len(bad)
        with_any += bool(bad)
        seen.update(f"{s.kind} {text[s.start : s.end]}" for s in bad)
    n = len(texts)
    return {
        "reports": n,
        "words": words,
        "redactions": false,
        "per_100_reports": round(100 * false / n, 1) if n else None,
        "reports_with_any": round(with_any / n, 4) if n else None,
        "commonest": [f"{k} ({v})" for k, v in seen.most_common(12)],
    }


def render(metrics: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """Markdown lines for the docs."""
    first = next(iter(metrics.values()))
    lines = [
        f"**Over-redaction on real reports.** {first['reports']} OpenI chest X-ray reports "
        f"({first['words']} words; the test split less the first {READ_ROWS} rows of the file, "
        "whose false redactions were read while writing the ordinary-words check), "
        "de-identified by their publisher (identifiers replaced by `XXXX`): every redaction "
        "that touches no mask is a word wrongly removed (a lower bound).",
        "",
        "| system | wrong redactions per 100 reports | reports with one or more |",
        "|---|---|---|",
    ]
    for name, label in labels.items():
        if name in metrics:
            m = metrics[name]
            lines.append(
                f"| {label} | {m['per_100_reports']} | {100 * m['reports_with_any']:.1f}% |"
            )
    best = metrics.get("combined") or metrics.get("rules")
    if best and best["commonest"]:
        lines += ["", "Commonest (default): " + "; ".join(f"`{c}`" for c in best["commonest"])]
    return lines
