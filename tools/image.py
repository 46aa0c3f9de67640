"""classify_image: chest X-ray classification with calibrated confidence, Grad-CAM and an
out-of-scope guard.

Result (the contract's keys first)::

    {"label": "PNEUMONIA", "probabilities": {"NORMAL": 0.08, "PNEUMONIA": 0.92},
     "model": "cxr-pneumonia.v1@xception-pneumonia-0.3.0", "in_distribution": true,
     "heatmap": "var/heatmaps/….png", "needs_review": false, "calibrated": true,
     "reason": null, "comparison": "Agrees with the report (…)", …}

``in_distribution: false`` means no diagnostic label (``label`` null, no probabilities), only
``reason``. Decision support, never a diagnosis.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import AttachmentError, UserError
from tools.base import OUTSIDE_CASE, ToolContext, tool

RESOURCE_KEY = "image.engine"  # the ImagingEngine: models load inside it, each once per process


def engine(ctx: ToolContext) -> Any:
    """The per-process :class:`~tools.imaging.pipeline.ImagingEngine`."""
    from tools.imaging.pipeline import ImagingEngine

    return ctx.resources.get(
        RESOURCE_KEY,
        lambda: ImagingEngine(ctx.settings, ctx.resources, ctx.settings.imaging.cxr_model),
    )


@tool
def classify_image(
    attachment: str,
    heatmap: bool = True,
    heatmap_path: str | None = None,
    name: str | None = None,
    model: str | None = None,
    draft: bool = False,
    *,
    ctx: ToolContext,
) -> dict[str, Any]:
    """Classify an attached medical image (PNG, JPEG, DICOM); refuses images it was not made for.
    ``model``: a registry key (default: the configured one); ``draft``: add a machine draft
    report (chest X-rays) built from the structured result."""
    from tools.imaging.io import load_image

    shown = name or _attachment_name(ctx, attachment)
    in_case = ctx.case_id != OUTSIDE_CASE
    if in_case and heatmap_path:
        raise UserError(
            "heatmap_path is for the command line only: in a case, heatmaps are kept in the "
            "case's own folder"
        )
    try:
        data = ctx.load_blob(attachment)
    except (KeyError, FileNotFoundError) as exc:
        raise AttachmentError(
            f"attachment {attachment[:12]}… is not in this case: attach the image again"
        ) from exc
    image = load_image(data, shown)
    eng = engine(ctx)
    out_path = Path(heatmap_path).expanduser() if heatmap_path else None
    if out_path is not None and out_path.suffix.lower() != ".png":
        raise AttachmentError(f"the heatmap path {heatmap_path} must end in .png")
    if in_case and heatmap:
        out_path = case_heatmap_dir(ctx.settings, ctx.case_id) / _heatmap_name(shown, attachment)
    result: dict[str, Any] = eng.classify(
        image,
        heatmap=heatmap or out_path is not None,
        heatmap_path=out_path,
        name=shown,
        findings=list(ctx.case.get("findings", []) or []),
        model=model,
        draft=draft,
        observations=list(ctx.case.get("observations", []) or []),
    )
    return result


def case_heatmap_dir(settings: Settings, case_id: str) -> Path:
    """Where a case's heatmaps go (one folder per case, removed with the case)."""
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:20]
    return settings.data_dir / "heatmaps" / f"case-{digest}"


def remove_case_heatmaps(settings: Settings, case_id: str) -> None:
    """Delete a case's heatmap folder (on /reset and case deletion)."""
    shutil.rmtree(case_heatmap_dir(settings, case_id), ignore_errors=True)


def _heatmap_name(shown: str, sha: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(shown).stem)[:40]
    return f"{stem or 'image'}-{sha[:12]}.png"


def _attachment_name(ctx: ToolContext, sha: str) -> str:
    for att in ctx.attachments:
        if att.sha256 == sha:
            return att.name
    for stored in ctx.case.get("attachments", []) or []:
        if isinstance(stored, dict) and stored.get("sha256") == sha:
            return str(stored.get("name") or sha[:12])
    return sha[:12]


def with_draft(result: dict[str, Any]) -> dict[str, Any]:
    """The result with its machine draft report (``draft``), when it is an in-scope result of
    a registered chest model; otherwise unchanged. Built from the result's own fields only."""
    from tools.imaging import registry
    from tools.imaging.report import draft

    if result.get("draft") or not result.get("in_distribution"):
        return result
    key = str(result.get("model") or "").split("@")[0]
    entry = registry.REGISTRY.get(key)
    if entry is None or entry.domain != "cxr" or not entry.positive:
        return result
    text = draft(result, entry.positive)
    return {**result, "draft": text} if text else result
