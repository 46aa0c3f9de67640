"""extract_entities: inputs (text, txt/md, PDF text layer, DICOM SR, garbage) with a tiny-lexicon
pipeline, plus one slow test through the full pipeline and the Assistant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from spacy.language import Language

from assistant.core.config import Settings
from assistant.core.schema import AttachmentRef
from assistant.core.state import empty_case
from tests.fakes.nlp import build_test_pipeline
from tests.fuzzing import dicom_sr, text_pdf
from tools.base import Resources, ToolContext
from tools.ner import PIPELINE_KEY, extract_entities
from tools.registry import ToolRegistry

TERMS = [
    ("pleural effusion", "FINDING", "pleural effusion"),
    ("pneumothorax", "FINDING", "pneumothorax"),
    ("pneumonia", "FINDING", "pneumonia"),
]
REPORT = "FINDINGS: No pneumothorax. Small left pleural effusion.\nIMPRESSION: Possible pneumonia."


@pytest.fixture(scope="module")
def tiny() -> Language:
    return build_test_pipeline(TERMS)


def make_ctx(
    settings: Settings, nlp: Language, blobs: dict[str, bytes] | None = None
) -> ToolContext:
    blobs = blobs or {}
    atts = [
        AttachmentRef(
            sha256=k,
            name=f"{k}.bin",
            media_type="application/octet-stream",
            kind="report",
            size=len(v),
        )
        for k, v in blobs.items()
    ]
    return ToolContext(
        case_id="t",
        mode="clinician",
        settings=settings,
        resources=Resources(settings, **{PIPELINE_KEY: nlp}),
        case=empty_case("clinician"),
        load_blob=blobs.__getitem__,
        attachments=atts,
    )


def call(ctx: ToolContext, **args: Any) -> Any:
    return ToolRegistry([extract_entities]).call("extract_entities", args, ctx)


def test_inline_text_contract(settings: Settings, tiny: Language) -> None:
    res = call(make_ctx(settings, tiny), text=REPORT)
    assert res.ok, res.error
    out = res.result
    assert (
        out["summary"]
        == "Positive: small left pleural effusion / Negated: pneumothorax / Uncertain: pneumonia"
    )
    ptx = next(e for e in out["entities"] if e["text"] == "pneumothorax")
    assert (
        ptx["negated"]
        and ptx["section"] == "findings"
        and REPORT[ptx["start"] : ptx["end"]] == "pneumothorax"
    )
    assert out["needs_review"] is True  # an uncertain finding


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.encode(),
        lambda t: ("\ufeff" + t).encode(),
        lambda t: t.encode("cp1252"),
        text_pdf,
        dicom_sr,
    ],
    ids=["txt", "utf8-bom", "cp1252", "pdf", "dicom-sr"],
)
def test_attachment_formats(
    settings: Settings, tiny: Language, make: Callable[[str], bytes]
) -> None:
    text = "No pneumothorax. Small left pleural effusion."
    res = call(make_ctx(settings, tiny, {"a" * 64: make(text)}), attachment="a" * 64)
    assert res.ok, res.error
    assert {e["normalized"]: e["negated"] for e in res.result["entities"]} == {
        "pneumothorax": True,
        "pleural effusion": False,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 20, "not a text report"),
        (b"x" * (5 * 1024 * 1024), "too long"),
        (b"   \n\t  ", "empty"),
        (b"%PDF-1.4 broken", "PDF could not be read"),
        (None, "no report text"),
    ],
    ids=["empty", "binary", "5MB", "blank", "bad-pdf", "dicom-image"],
)
def test_garbage_gets_one_clear_message(
    settings: Settings, tiny: Language, data: bytes | None, message: str
) -> None:
    blob = dicom_sr(None) if data is None else data
    res = call(make_ctx(settings, tiny, {"b" * 64: blob}), attachment="b" * 64)
    assert not res.ok and message in (res.error or "")
    assert "\n" not in (res.error or "")


def test_no_input_and_non_english(settings: Settings, tiny: Language) -> None:
    res = call(make_ctx(settings, tiny))
    assert not res.ok and "no report" in (res.error or "")
    res = call(
        make_ctx(settings, tiny),
        text="Der Patient hat keine Beschwerden und wurde heute entlassen.",
    )
    assert res.ok and res.result["needs_review"] is True and res.result["entities"] == []


def test_pipeline_loaded_once_per_process(settings: Settings, tiny: Language) -> None:
    ctx = make_ctx(settings, tiny)
    calls = []
    ctx.resources = Resources(settings)
    original = ctx.resources.get

    def counting_get(key: str, factory: Callable[[], Any]) -> Any:
        def wrapped() -> Any:
            calls.append(key)
            return tiny

        return original(key, wrapped)

    ctx.resources.get = counting_get  # type: ignore[method-assign]
    for _ in range(3):
        assert call(ctx, text=REPORT).ok
    assert calls == [PIPELINE_KEY]


@pytest.mark.slow
def test_full_pipeline_through_the_assistant(assistant: Any) -> None:
    """The real lexicons (compiled once into the model cache) on a radiology report."""
    report = (
        "INDICATION: ___ year old man with cough. Evaluate for pneumonia.\n\n"
        "FINDINGS: The ET tube terminates 4 cm above the carina. No pneumothorax. "
        "Small left pleural effusion. The heart is mildly enlarged.\n\n"
        "IMPRESSION: Left basilar opacity may represent atelectasis or pneumonia."
    )
    call_ = assistant.run_tool("extract_entities", {"text": report})
    assert call_.ok, call_.error
    out = call_.result
    by_norm = {}
    for e in out["entities"]:
        by_norm.setdefault(e["normalized"], e)
        assert report[e["start"] : e["end"]] == e["text"]
    assert by_norm["pneumothorax"]["negated"]
    assert (
        not by_norm["pleural effusion"]["negated"]
        and by_norm["pleural effusion"]["laterality"] == "left"
    )
    assert by_norm["pleural effusion"]["code"]  # a MeSH/HPO code borrowed for the lexicon concept
    assert by_norm["pneumonia"]["uncertain"] and by_norm["pneumonia"]["section"] == "indication"
    assert by_norm["endotracheal tube"]["label"] == "DEVICE"
    assert by_norm["cardiomegaly"]["severity"] == "mild"
    assert any(e["label"] == "MEASUREMENT" and e["text"] == "4 cm" for e in out["entities"])
    assert out["summary"].startswith("Positive: ")
    assert "Negated: pneumothorax" in out["summary"]
    # a turn stores the findings in the case
    turn = assistant.respond("ner-case", report)
    assert [t.name for t in turn.tools][:1] == ["extract_entities"]
    findings = assistant.store.load_case("ner-case")[0]["findings"]
    assert any(f["normalized"] == "pleural effusion" for f in findings)
