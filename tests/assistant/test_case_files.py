"""Cases keep their files apart: a tool reads only its own case's attachments, /reset and case
deletion remove a case's blobs and heatmaps (a blob two cases hold stays until the last one
lets go), and a tool outside any case reads no stored file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import StoreError
from assistant.core.llm import ScriptedLLM
from assistant.router import Plan, Router
from assistant.service import Assistant, Attachment
from assistant.store import CaseStore, case_blobs
from tests.cli_helpers import run_cli
from tests.fakes.bots import bot_over
from tests.fakes.tools import fake_registry
from tools.image import case_heatmap_dir

SECRET_REPORT = b"Findings: Small left pleural effusion. Patient of case A only."


@pytest.fixture
def bot(settings: Settings) -> Iterator[Assistant]:
    yield from bot_over(settings, fake_registry(), answer="OK.")


def read_sha(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planner that obeys 'read <sha>' (what a tool-calling model could be talked into)."""
    original = Router.plan

    def plan(self: Router, text: str, *args: Any, **kw: Any) -> Plan:
        if text.startswith("read "):
            sha = text.split()[1]
            return Plan("report", [{"name": "extract_entities", "args": {"attachment": sha}}])
        return original(self, text, *args, **kw)

    monkeypatch.setattr(Router, "plan", plan)


def attach_report(bot: Assistant, case_id: str, data: bytes = SECRET_REPORT) -> str:
    turn = bot.respond(case_id, "", [Attachment("report.txt", data)])
    assert turn.tools[0].ok, turn.tools[0].error
    return turn.attachments[0].sha256


def test_a_turn_in_case_b_cannot_read_case_a_blob(
    bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_sha(monkeypatch)
    sha = attach_report(bot, "case-a")
    turn = bot.respond("case-b", f"read {sha}")
    call = turn.tools[0]
    assert not call.ok and call.user_error
    assert "not attached to this case" in (call.error or "")
    assert "pleural effusion" not in turn.reply.lower()
    # ... while case A itself may read it again later
    again = bot.respond("case-a", f"read {sha}")
    assert again.tools[0].ok and "pleural effusion" in again.reply.lower()


def test_a_tool_outside_any_case_reads_no_stored_blob(bot: Assistant) -> None:
    sha = attach_report(bot, "case-a")
    call = bot.run_tool("extract_entities", {"attachment": sha})
    assert not call.ok and call.user_error and "not attached" in (call.error or "")
    held = bot.run_tool(
        "extract_entities", {"attachment": sha}, files=[Attachment("r.txt", SECRET_REPORT)]
    )
    assert held.ok


def test_store_reads_a_blob_only_for_its_case(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    sha = store.put_blob(b"bytes of A", "image/png", case_id="a")
    assert store.get_blob(sha, case_id="a") == b"bytes of A"
    with pytest.raises(StoreError, match="not attached to case 'b'"):
        store.get_blob(sha, case_id="b")
    store.close()


def test_reset_removes_the_case_blobs_and_heatmaps(bot: Assistant, settings: Settings) -> None:
    sha = attach_report(bot, "case-a")
    attach_report(bot, "case-b", b"Findings: No pneumothorax. Case B's own report.")
    heat_a = case_heatmap_dir(settings, "case-a")
    heat_b = case_heatmap_dir(settings, "case-b")
    for folder in (heat_a, heat_b):
        folder.mkdir(parents=True)
        (folder / "cxr-0123.png").write_bytes(b"\x89PNG")
    assert heat_a != heat_b and heat_a.parent == settings.data_dir / "heatmaps"
    bot.reset("case-a")
    assert bot.store.case_blob_ids("case-a") == [] and not heat_a.exists()
    assert bot.store.count_blobs() == 1 and heat_b.is_dir()  # case B keeps its own
    with pytest.raises(StoreError):
        bot.store.get_blob(sha, case_id="case-a")
    assert [a["action"] for a in bot.audit("case-a")][-1] == "reset"


def test_a_blob_two_cases_hold_stays_until_the_last_one_goes(
    bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_sha(monkeypatch)
    sha = attach_report(bot, "case-a")
    assert attach_report(bot, "case-b") == sha
    assert bot.store.count_blobs() == 1
    bot.reset("case-a")
    assert bot.store.count_blobs() == 1
    assert bot.respond("case-b", f"read {sha}").tools[0].ok  # B still reads it
    bot.delete_case("case-b")
    assert bot.store.count_blobs() == 0
    assert not bot.store.exists("case-b")
    assert [a["action"] for a in bot.audit("case-b")][-1] == "delete"


def test_a_failed_turn_stores_no_blob(bot: Assistant) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("the graph broke")

    bot._graph = type("G", (), {"invoke": staticmethod(boom)})()
    with pytest.raises(RuntimeError):
        bot.respond("case-a", "", [Attachment("report.txt", SECRET_REPORT)])
    assert bot.store.count_blobs() == 0 and not bot.store.exists("case-a")


def test_stores_from_before_links_are_linked_on_open(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    bot = Assistant(
        settings.model_copy(update={"store": settings.store.model_copy(update={"url": url})}),
        llm=ScriptedLLM(),
        embedder=HashingEmbedder(),
        registry=fake_registry(),
    )
    sha = attach_report(bot, "case-a")
    with bot.store.engine.begin() as conn:  # what a store written before links looks like
        conn.execute(delete(case_blobs))
    bot.close()
    reopened = CaseStore(url)
    assert reopened.get_blob(sha, case_id="case-a") == SECRET_REPORT
    with pytest.raises(StoreError):
        reopened.get_blob(sha, case_id="case-b")
    reopened.close()


def test_cli_delete_case_and_tools_outside_cases_store_nothing(
    bot: Assistant, cli_env: dict[str, str], tmp_path: Path
) -> None:
    attach_report(bot, "bed-1")  # the CLI below opens the same data dir
    assert bot.store.count_blobs() == 1
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n damaged")
    res = run_cli(cli_env, "ner", "--json", str(bad))
    assert res.exit_code == 2 and "PDF" in res.stderr
    assert bot.store.count_blobs() == 1  # read in memory, outside any case: nothing stored
    res = run_cli(cli_env, "delete-case", "--case", "bed-1")
    assert res.exit_code == 0, res.stderr
    assert bot.store.count_blobs() == 0 and not bot.store.exists("bed-1")
    res = run_cli(cli_env, "delete-case", "--case", "bed-1")
    assert res.exit_code == 2 and "nothing to delete" in res.stderr


def test_a_tool_in_a_case_writes_heatmaps_only_into_its_case_folder(settings: Settings) -> None:
    from tools.base import Resources, ToolContext
    from tools.image import classify_image
    from tools.registry import ToolRegistry

    ctx = ToolContext(
        case_id="case-a",
        mode="clinician",
        settings=settings,
        resources=Resources(settings),
        case={},  # type: ignore[typeddict-item]
        load_blob=lambda sha: b"",
    )
    call = ToolRegistry([classify_image]).call(
        "classify_image", {"attachment": "0" * 64, "heatmap_path": "/etc/x.png"}, ctx
    )
    assert not call.ok and call.user_error and "command line only" in (call.error or "")
