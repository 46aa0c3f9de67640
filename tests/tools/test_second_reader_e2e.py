"""End to end through Assistant.respond: a report turn says "no pneumonia", then an image turn
classified PNEUMONIA is flagged for human review by the second reader, which reads the
observations the report turn stored in the case.

Fast: the real NER code with a tiny lexicon and the imaging engine with a fake classifier (the
fakes of tests/tools/imaging/test_imaging_pipeline.py). Slow: the real lexicons and the real
packaged pneumonia model on its own pneumonia sample (fixtures of tests/tools/test_image.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.service import Assistant, Attachment
from tests.fakes.nlp import build_test_pipeline
from tests.tools.imaging.test_imaging_pipeline import _engine, _smooth
from tests.tools.test_image import engine, fetched  # noqa: F401 - fixtures
from tools.image import RESOURCE_KEY
from tools.imaging import registry
from tools.ner import PIPELINE_KEY

REPORT = (
    "FINDINGS: The lungs are clear. No pneumonia, pleural effusion or pneumothorax.\n\n"
    "IMPRESSION: No acute cardiopulmonary process."
)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_smooth().pixels.clip(0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _check_flagged(assistant: Assistant, case_id: str, image: Attachment) -> None:
    report_turn = assistant.respond(case_id, REPORT)
    assert [t.name for t in report_turn.tools] == ["extract_entities"]
    stored = assistant.store.load_case(case_id)
    assert stored is not None
    observations = {o["finding"]: o for o in stored[0]["observations"]}
    assert observations["Pneumonia"]["status"] == "negative"
    assert observations["Pneumonia"]["report"] == "message"
    assert "Pneumonia negative" in report_turn.reply

    image_turn = assistant.respond(case_id, "What does this image show?", [image])
    call = next(t for t in image_turn.tools if t.name == "classify_image")
    assert call.ok, call.error
    result = call.result or {}
    assert result["label"] == "PNEUMONIA"
    assert result["comparison"].startswith("Discrepancy: the report says no pneumonia")
    assert "the image model and the report disagree" in result["review_reasons"]
    assert result["needs_review"] is True
    assert image_turn.safety.needs_review is True
    assert "Discrepancy" in image_turn.reply


def test_no_pneumonia_report_then_pneumonia_image_is_flagged(assistant: Assistant) -> None:
    eng, _, _ = _engine(assistant.settings, [0.0, 3.0], np.array([1.0, 0, 0, 0]))
    assistant.resources.put(RESOURCE_KEY, eng)
    assistant.resources.put(
        PIPELINE_KEY,
        build_test_pipeline(
            [
                ("pneumonia", "FINDING", "pneumonia"),
                ("pleural effusion", "FINDING", "pleural effusion"),
                ("pneumothorax", "FINDING", "pneumothorax"),
                ("acute cardiopulmonary process", "FINDING", "acute cardiopulmonary process"),
            ]
        ),
    )
    _check_flagged(assistant, "sr-fast", Attachment("film.png", _png()))


@pytest.mark.slow
def test_real_models_flag_the_same_discrepancy(
    fetched: None,  # noqa: F811 - the fixture imported above
    assistant: Assistant,
) -> None:
    entry = registry.get("cxr-pneumonia.v1")
    path = next(
        p
        for p, _ in registry.samples(assistant.settings, entry)
        if p.name == "person1946_bacteria_4874.jpeg"  # classified PNEUMONIA by the real model
    )
    _check_flagged(assistant, "sr-real", Attachment(path.name, path.read_bytes()))
