"""extract_entities: clinical named entities in a report, with ConText modifiers and sections."""

from __future__ import annotations

from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import ToolUnavailableError
from tools.base import Resources, ToolContext, tool

PIPELINE_KEY = "ner.pipeline"
MAX_ENTITIES = 500


def report_text(text: str | None, attachment: str | None, ctx: ToolContext) -> str:
    """The report to read: inline text, or an attached file's text (txt, md, PDF text layer,
    DICOM SR). Raises a ``UserError`` subclass with one clear line for anything else."""
    from knowledge.nlp.reader import ReportInputError, check_text, report_from_bytes

    if text and text.strip():
        return check_text(text)
    if attachment:
        name = next((a.name for a in ctx.attachments if a.sha256 == attachment), "")
        return report_from_bytes(ctx.load_blob(attachment), name)
    raise ReportInputError("there is no report to read: paste the report text or attach a file")


def _load(ctx: ToolContext) -> Any:
    return pipeline(ctx.settings, ctx.resources)


def pipeline(settings: Settings, resources: Resources) -> Any:
    """The report pipeline, loaded once per process into ``resources`` (tool and batch CLI)."""

    def factory() -> Any:
        try:
            from knowledge.nlp import load_pipeline
        except ImportError as exc:  # spaCy / medspaCy / scispaCy missing in this install
            raise ToolUnavailableError(
                f"the clinical NER pipeline cannot load ({exc.name} is not installed)"
            ) from exc
        try:
            return load_pipeline(settings)
        except FileNotFoundError as exc:
            raise ToolUnavailableError(
                f"a lexicon source of the NER pipeline is missing: {exc}"
            ) from exc

    return resources.get(PIPELINE_KEY, factory)


@tool
def extract_entities(
    text: str | None = None, attachment: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Extract findings, anatomy, medications, procedures, devices and measurements from a
    radiology or clinical report, with negation, uncertainty, history and section, plus the
    report-level observations (14 chest X-ray findings + No Finding: positive / negative /
    uncertain / absent)."""
    report = report_text(text, attachment, ctx)
    from knowledge.nlp.pipeline import analyse

    result = analyse(_load(ctx), report)
    if len(result["entities"]) > MAX_ENTITIES:
        result["entities"] = result["entities"][:MAX_ENTITIES]
        result["truncated"] = True
    result["chars"] = len(report)
    result["disclaimer"] = "Automated extraction for decision support; verify against the report."
    return result
