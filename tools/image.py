"""classify_image: chest X-ray classification with calibrated confidence, Grad-CAM and an
out-of-scope guard."""

from __future__ import annotations

from typing import Any

from assistant.errors import ToolUnavailableError
from tools.base import ToolContext, tool


@tool
def classify_image(attachment: str, heatmap: bool = True, *, ctx: ToolContext) -> dict[str, Any]:
    """Classify an attached medical image (PNG, JPEG, DICOM); refuses images it was not made for."""
    raise ToolUnavailableError("image classification is not installed in this build (issue #6)")
