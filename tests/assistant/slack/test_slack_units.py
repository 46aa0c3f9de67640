"""Pure parts of the Slack app: case keys, text splitting, Block Kit, dedup, the case queue, manifest."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.schema import Citation, Safety, ToolCall, Turn
from assistant.policy import messages
from assistant.service import CASE_ID
from assistant.slack.keys import case_key, parse_case_key
from assistant.slack.queue import CaseQueue
from assistant.slack.render import (
    MAX_SECTION_CHARS,
    clean_incoming,
    escape_mrkdwn,
    render_messages,
    split_text,
)

REPO = Path(__file__).resolve().parents[3]
ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
tss = st.builds(lambda a, b: f"{a}.{b:06d}", st.integers(10**9, 2 * 10**9), st.integers(0, 999_999))


@given(ids, ids, tss)
def test_case_key_round_trips_and_is_a_valid_case_id(team, channel, ts):
    key = case_key(team, channel, ts)
    assert CASE_ID.match(key)
    assert parse_case_key(key) == (team, channel, ts)


@pytest.mark.parametrize(
    "bad", [("T1", "C:1", "1.2"), ("T1", "", "1.2"), ("T 1", "C1", "1.2"), ("T1", "C1", "1/2")]
)
def test_case_key_rejects_parts_that_could_escape_their_channel(bad):
    with pytest.raises(ValueError):
        case_key(*bad)


@given(st.text(max_size=40))
def test_parse_case_key_never_crashes(text):
    parsed = parse_case_key(text)
    assert parsed is None or case_key(*parsed) == text


@given(st.text(max_size=3000), st.integers(1, 500))
def test_split_text_pieces_fit_and_join_back(text, limit):
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(len(p) <= limit for p in pieces)
    assert all(p for p in pieces) or text == ""


@given(st.text(max_size=200))
def test_escape_leaves_no_slack_control_characters(text):
    out = escape_mrkdwn(text)
    assert "<" not in out and ">" not in out
    assert out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_clean_incoming_removes_only_the_bots_mention_and_decodes_entities():
    text = "<@U0BOT> is A &lt; B &amp; ask <@U0COLLEAGUE>"
    assert clean_incoming(text, "U0BOT") == "is A < B & ask <@U0COLLEAGUE>"


def _turn(**kw) -> Turn:
    base = {"case_id": "slack:T:C:1.1", "mode": "clinician", "reply": "Hello."}
    base.update(kw)
    return Turn(**base)


def test_emergency_banner_comes_first():
    banner = messages.EMERGENCY["clinician"].format(reasons="chest pain")
    turn = _turn(
        reply=f"{banner}\n\nSome other text.", safety=Safety(emergency=True, reasons=["red_flag:x"])
    )
    msgs = render_messages(turn)
    blocks = msgs[0]["blocks"]
    assert blocks[0]["type"] == "header"
    assert banner[:40] in blocks[1]["text"]["text"]
    assert "Some other text." in blocks[2]["text"]["text"]
    assert msgs[0]["text"].startswith(banner[:40])


def test_findings_table_citations_and_review_note():
    ents = [
        {"text": "pleural effusion", "label": "FINDING", "negated": False},
        {"text": "pneumothorax", "label": "FINDING", "negated": True},
    ]
    turn = _turn(
        reply=f"Entities.\n\nSources: [1] Effusion (kb)\n\n{messages.NEEDS_REVIEW}",
        tools=[ToolCall(name="extract_entities", result={"entities": ents})],
        citations=[
            Citation(id="a", source="kb", title="Effusion <b>", url="https://example.org/e")
        ],
    )
    blocks = render_messages(turn)[0]["blocks"]
    kinds = [b["type"] for b in blocks]
    assert kinds == ["section", "divider", "section", "context", "context"]
    table = blocks[2]["text"]["text"]
    assert "pleural effusion" in table and "present" in table and "negated" in table
    cites = [e["text"] for e in blocks[3]["elements"]]
    assert cites[1] == "[1] <https://example.org/e|Effusion &lt;b&gt;> (kb)"
    assert "Sources:" not in blocks[0]["text"]["text"]  # shown once, in the context block
    assert messages.NEEDS_REVIEW in blocks[4]["elements"][0]["text"]


def test_reply_text_cannot_ping_the_channel():
    blocks = render_messages(_turn(reply="<!channel> look <https://evil|here>"))[0]["blocks"]
    assert "<!channel>" not in blocks[0]["text"]["text"]


def test_long_reply_is_split_into_messages_within_slack_limits():
    reply = "\n\n".join(f"Paragraph {i} " + "x" * 900 for i in range(20))
    msgs = render_messages(_turn(reply=reply))
    assert len(msgs) > 1
    for m in msgs:
        assert len(m["blocks"]) <= 50 and len(m["text"]) <= 3000
        assert all(
            len(b["text"]["text"]) <= MAX_SECTION_CHARS
            for b in m["blocks"]
            if b["type"] == "section"
        )
    assert "Paragraph 19" in msgs[-1]["blocks"][-1]["text"]["text"]


def test_heatmap_path_is_not_shown_when_uploaded():
    reply = "Image model (fake): PNEUMONIA.\nGrad-CAM heatmap: /srv/var/heatmaps/abc.png"
    text = render_messages(_turn(reply=reply), heatmap_uploaded=True)[0]["blocks"][0]["text"][
        "text"
    ]
    assert "/srv/var" not in text and "attached in this thread" in text


def test_case_queue_keeps_order_per_case_and_isolates_failures():
    q = CaseQueue(workers=2, max_pending=100)
    seen: list[str] = []
    lock = threading.Lock()

    def job(tag: str, fail: bool = False):
        def run():
            if fail:
                raise RuntimeError(tag)
            time.sleep(0.001)
            with lock:
                seen.append(tag)

        return run

    for i in range(10):
        assert q.submit("a", job(f"a{i}"))
        assert q.submit("b", job(f"b{i}", fail=i == 3))
    assert q.wait_idle(10)
    assert [t for t in seen if t.startswith("a")] == [f"a{i}" for i in range(10)]
    assert [t for t in seen if t.startswith("b")] == [f"b{i}" for i in range(10) if i != 3]
    q.close()


def test_case_queue_refuses_when_full():
    q = CaseQueue(workers=1, max_pending=2)
    gate = threading.Event()
    assert q.submit("a", gate.wait)
    assert q.submit("b", lambda: None)
    assert not q.submit("c", lambda: None)
    gate.set()
    assert q.wait_idle(10)
    q.close()


def test_manifest_declares_what_the_app_uses():
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "files:read",
        "files:write",
        "commands",
        "im:history",
        "channels:history",
        "assistant:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "assistant_thread_started"} <= events
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["slash_commands"][0]["command"] == "/clinassist"
    assert "assistant_view" in manifest["features"]
