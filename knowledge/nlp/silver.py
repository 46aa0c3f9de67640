"""Report-level agreement with radlabels' silver labels (rule-made, not gold) on its 1,000
synthetic reports: our entities -> present / absent / uncertain per finding, compared per
(report, finding) pair that radlabels labels, for the findings both vocabularies name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from spacy.language import Language

from knowledge.nlp.gold import radlabels_reports_dir
from knowledge.nlp.pipeline import entities

# radlabels key -> our normalized concept names
SILVER_MAP: dict[str, tuple[str, ...]] = {
    "pleural_effusion": ("pleural effusion",),
    "pneumothorax": ("pneumothorax",),
    "pulmonary_congestion_pulmonary_venous_congestion": ("pulmonary vascular congestion",),
    "pulmonary_edema": ("pulmonary edema",),
    "cardiomegaly": ("cardiomegaly",),
    "atelectasis": ("atelectasis",),
    "pneumonia": ("pneumonia",),
    "consolidation": ("consolidation",),
    "enteric_tube": ("enteric tube",),
    "endotracheal_tube": ("endotracheal tube",),
    "central_venous_catheter": ("central venous catheter",),
    "intercostal_drain": ("chest tube",),
    "emphysema": ("emphysema",),
    "subcutaneous_emphysema": ("subcutaneous emphysema",),
    "pneumomediastinum": ("pneumomediastinum",),
    "pneumoperitoneum": ("pneumoperitoneum",),
    "tracheostomy_tube": ("tracheostomy tube",),
    "hiatus_hernia": ("hiatal hernia",),
    "pacemaker_electronic_cardiac_device_or_wires": ("cardiac device",),
    "calcification_of_the_aorta": ("aortic calcification",),
    "tortuous_aorta": ("tortuous aorta",),
    "fracture_generic": ("fracture",),
    "lung_nodule_or_mass": ("nodule", "mass"),
}
SILVER_VALUES = {
    "definitely present": "present",
    "definitely absent": "absent",
    "uncertain": "uncertain",
}


def report_status(ents: list[dict[str, Any]], names: tuple[str, ...]) -> str:
    hits = [e for e in ents if e["normalized"] in names and not e["family"]]
    if any(not e["negated"] and not e["uncertain"] for e in hits):
        return "present"
    if any(e["uncertain"] and not e["negated"] for e in hits):
        return "uncertain"
    if hits:
        return "absent"
    return "not mentioned"


def agreement(nlp: Language, echo: Callable[[str], None] = print) -> dict[str, Any]:
    folder = radlabels_reports_dir()
    labels = json.loads((folder.parent / "synthetic_labels.json").read_text(encoding="utf-8"))
    ids = sorted(labels)
    texts = [(folder / f"{i}.txt").read_text(encoding="utf-8") for i in ids]
    agree = total = 0
    by_value: dict[str, list[int]] = {}
    for ident, doc in zip(ids, nlp.pipe(texts), strict=True):
        ents = entities(doc)
        for key, value in labels[ident].items():
            if key not in SILVER_MAP:
                continue
            silver = SILVER_VALUES.get(value, value)
            ours = report_status(ents, SILVER_MAP[key])
            ok = ours == silver
            agree += ok
            total += 1
            by_value.setdefault(silver, [0, 0])
            by_value[silver][0] += ok
            by_value[silver][1] += 1
    out = {
        "reports": len(ids),
        "pairs": total,
        "agreement": round(agree / total, 3) if total else None,
        "by_silver_value": {k: round(a / n, 3) for k, (a, n) in by_value.items()},
    }
    echo(
        f"radlabels silver agreement (report level, {len(SILVER_MAP)} findings): {out['agreement']} over {total} pairs; by value {out['by_silver_value']}"
    )
    return out
