"""Attachments are parsed when they arrive: a damaged file is bad input (one line, exit 2 in the
CLI, the case unchanged), a DICOM Structured Report is read as a report, and no traceback or
"failed unexpectedly" reaches the user."""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from assistant.cli import setup_logging
from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import AttachmentError, UserError
from assistant.core.llm import ScriptedLLM
from assistant.files import check_attachment
from assistant.service import Assistant, Attachment
from tests.cli_helpers import one_line_error, run_cli
from tests.fakes.tools import fake_registry
from tests.fuzzing import (
    DICOM_FILES,
    DICOM_MAGIC,
    FUZZ,
    JPEG_MAGIC,
    PDF_MAGIC,
    PNG_MAGIC,
    behind,
    check_line,
    corrupt_dicom,
    dicom_bytes,
    dicom_sr,
    mutated,
    pdf_files,
    text_pdf,
)
from tools.registry import ToolRegistry


@cache
def tiny_ner() -> Any:
    from tests.fakes.nlp import build_test_pipeline

    return build_test_pipeline([("pleural effusion", "FINDING", "pleural effusion")])


def make_bot(settings: Settings) -> Assistant:
    """Fake image and knowledge tools; the real extract_entities (it reads text, PDF and DICOM
    SR attachments) over a one-term lexicon."""
    from tools.ner import PIPELINE_KEY, extract_entities

    fakes = fake_registry()
    registry = ToolRegistry([fakes.spec(n) for n in ("classify_image", "search_knowledge")])
    registry.register(extract_entities)
    bot = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=registry)
    bot.resources.put(PIPELINE_KEY, tiny_ner())
    return bot


@pytest.fixture
def bot(settings: Settings) -> Assistant:
    b = make_bot(settings)
    yield b
    b.close()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (32, 32), 90).save(buf, format="PNG")
    return buf.getvalue()


def test_kinds_after_parsing() -> None:
    assert check_attachment("cxr.png", png(), "image") == "image"
    assert check_attachment("ct.dcm", dicom_bytes("CT_small.dcm"), "dicom") == "dicom"
    assert check_attachment("sr.dcm", dicom_sr(), "dicom") == "report"
    assert check_attachment("r.pdf", text_pdf("Small effusion."), "report") == "report"


@pytest.mark.parametrize(
    ("name", "data", "kind", "says"),
    [
        ("chest.dcm", corrupt_dicom(), "dicom", "damaged"),
        ("cut.png", png()[:40], "image", "damaged or truncated"),
        ("rtplan.dcm", dicom_bytes("rtplan.dcm"), "dicom", "no pixel data"),
        ("scan.pdf", b"%PDF-1.4\n broken", "report", "scan.pdf: this PDF"),
        ("empty-sr.dcm", dicom_sr(None), "dicom", "no pixel data"),
    ],
    ids=["corrupt-dicom", "truncated-png", "dicom-no-image", "broken-pdf", "sr-without-text"],
)
def test_damaged_attachments_are_one_clear_line(
    name: str, data: bytes, kind: str, says: str
) -> None:
    with pytest.raises(AttachmentError) as info:
        check_attachment(name, data, kind)  # type: ignore[arg-type]
    check_line(info.value.message)
    assert says in info.value.message


def test_a_corrupt_dicom_leaves_the_case_unchanged(bot: Assistant) -> None:
    bot.respond("bed-1", "Findings: Small left pleural effusion.")
    before = (bot.history("bed-1"), bot.store.load_case("bed-1"), bot.store.count_blobs())
    with pytest.raises(UserError) as info:
        bot.respond("bed-1", "what does this show?", [Attachment("chest.dcm", corrupt_dicom())])
    check_line(info.value.message)
    assert "chest.dcm" in info.value.message and "unexpectedly" not in info.value.message
    assert (bot.history("bed-1"), bot.store.load_case("bed-1"), bot.store.count_blobs()) == before


def test_a_dicom_sr_is_read_as_a_report(bot: Assistant) -> None:
    turn = bot.respond("bed-2", "", [Attachment("report.dcm", dicom_sr())])
    assert [t.name for t in turn.tools] == ["extract_entities"] and turn.tools[0].ok
    assert turn.attachments[0].kind == "report"
    assert turn.attachments[0].media_type == "application/dicom"
    assert "pleural effusion" in turn.reply.lower()


@hsettings(
    FUZZ, suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        behind(PNG_MAGIC),
        behind(JPEG_MAGIC),
        behind(DICOM_MAGIC),
        behind(PDF_MAGIC),
        mutated(tuple(dicom_bytes(n) for n in DICOM_FILES[:4]), keep=132),
        mutated(tuple(d for _n, d in pdf_files()), keep=5),
    ),
    st.sampled_from(["scan.dcm", "image.png", "report.pdf", "notes.txt"]),
)
def test_any_bytes_give_a_turn_or_one_line_and_an_unchanged_store(
    settings: Settings, data: bytes, name: str
) -> None:
    bot = make_bot(settings)
    try:
        before = bot.store.count_turns(), bot.store.count_blobs()
        try:
            turn = bot.respond("fuzz", "", [Attachment(name, data)])
        except UserError as exc:
            check_line(exc.message)
            assert (bot.store.count_turns(), bot.store.count_blobs()) == before
        else:
            for call in turn.tools:
                assert "unexpectedly" not in (call.error or ""), call.error
    finally:
        bot.close()


def test_cli_classify_corrupt_dicom_exits_2_with_one_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "chest.dcm"
    bad.write_bytes(corrupt_dicom())
    res = run_cli(cli_env, "classify", str(bad))
    assert "chest.dcm" in one_line_error(res)


def test_cli_ask_with_corrupt_dicom_exits_2_and_stores_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "chest.dcm"
    bad.write_bytes(corrupt_dicom())
    res = run_cli(cli_env, "ask", "--case", "c1", "--attach", str(bad), "look")
    one_line_error(res)
    res = run_cli(cli_env, "cases", "--json")
    assert res.exit_code == 0 and '"cases": []' in res.stdout


def test_cli_ner_damaged_pdf_exits_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "report.pdf"
    bad.write_bytes(text_pdf("x").replace(b"/Type /Catalog", b"/Tyte /Catalog")[:-30])
    res = run_cli(cli_env, "ner", str(bad))
    one_line_error(res)


def test_logged_tracebacks_stay_out_of_stderr_without_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(debug=False)
    try:
        raise RuntimeError("a bug in a tool")
    except RuntimeError:
        logging.getLogger("tools.registry").exception("tool x failed")
    err = capsys.readouterr().err
    assert "tool x failed" in err and "Traceback" not in err and len(err.splitlines()) == 1
    setup_logging(debug=True)
    try:
        raise RuntimeError("a bug in a tool")
    except RuntimeError:
        logging.getLogger("tools.registry").exception("tool x failed")
    assert "Traceback" in capsys.readouterr().err
    logging.getLogger().handlers.clear()
