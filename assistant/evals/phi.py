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

import time
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.types import Echo
from assistant.evals import phi_openi as eval_phi_openi
from assistant.evals.phi_report import first_look, render_markdown
from assistant.evals.phi_sets import (
    SEED,
    SHIPPED_DEV_SETS,
    TARGET_RECALL,
    TARGET_TYPES,
    TYPES,
    Item,
    baseline_rules,
    development_splits,
    load_file,
    load_items,
    parse,
    parse_file,
    score,
    systems,
)
from assistant.policy import phi

__all__ = [  # what the runner, the bench and the tests import from here
    "TYPES",
    "Item",
    "baseline_rules",
    "development_splits",
    "evaluate",
    "first_look",
    "load_file",
    "load_items",
    "parse",
    "parse_file",
    "render_markdown",
    "score",
]


def evaluate(
    settings: Settings, out_dir: Path, echo: Echo, *, set_file: Path | None = None
) -> dict[str, Any]:
    """Every system on every split, one run: the shipped development sets, or (``set_file``)
    one file scored whole as a test set."""
    if set_file is not None:
        splits = {"set": load_file(set_file)}
        shipped = splits["set"][0].id.startswith(SHIPPED_DEV_SETS)
        described = f"assistant/data/eval/{set_file.stem}.txt" if shipped else str(set_file)
        tuned_on: list[str] = ["set"] if shipped else []
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
    label = "development sets, tuned on" if tuned_on else "the set"
    echo(
        f"phi targets ({label}): "
        + ", ".join(f"{t} {'ok' if ok else 'MISSED'}" for t, ok in report["targets_met"].items())
    )
    if set_file is not None:  # scored once: the whole table on the terminal
        echo("")
        echo(render_markdown(report))
    return report
