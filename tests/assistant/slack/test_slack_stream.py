"""A model-written answer appears in Slack as it is generated (post, then chat.update as each
sentence passes the support check), and ends identical to the non-streamed message."""

from __future__ import annotations

import time
from collections.abc import Iterator

from assistant.core.llm import ScriptedLLM
from assistant.policy import messages
from tests.assistant.slack.slack_helpers import mention
from tests.fakes.tools import fake_registry

S1 = "Pleural effusion is the presence of an excessive amount of fluid in the pleural cavity [1]."
UNSUPPORTED = "The moon is made of cheese."
S2 = "An excessive amount of fluid in the pleural cavity is a pleural effusion [1]."
S3 = "Fluid in the pleural cavity is excessive in a pleural effusion [1]."
ANSWER = " ".join([S1, UNSUPPORTED, S2, S3])
QUESTION = "what is a pleural effusion?"


class SlowLLM(ScriptedLLM):
    """The scripted answer, pausing after each sentence like a model on a small CPU."""

    def stream(self, messages, **kw) -> Iterator[str]:
        for piece in super().stream(messages, **kw):
            yield piece
            if piece.endswith("."):
                time.sleep(0.3)


def _shown(mock, thread_ts: str) -> list[tuple[str, list]]:
    return [
        (m["text"], m.get("blocks") or []) for m in mock.posted() if m["thread_ts"] == thread_ts
    ]


def test_streamed_answer_grows_then_ends_identical_to_the_plain_one(harness, mock):
    plain = harness({"stream": False}, llm=ScriptedLLM(default=ANSWER), registry=fake_registry())
    plain.event(mention(QUESTION, ts="1700000001.000100"))
    expected = _shown(mock, "1700000001.000100")
    assert expected and S1 in expected[0][0] and UNSUPPORTED not in expected[0][0]
    assert mock.calls_to("chat.update") == []

    live = harness(
        {"stream": True, "stream_interval_s": 0.0},
        llm=SlowLLM(default=ANSWER),
        registry=fake_registry(),
    )
    live.event(mention(QUESTION, ts="1700000002.000100"))
    assert _shown(mock, "1700000002.000100") == expected  # the final message, unchanged

    posts = [p for p in mock.calls_to("chat.postMessage") if p["thread_ts"] == "1700000002.000100"]
    updates = mock.calls_to("chat.update")
    # first the first supported sentence alone, then updates as more sentences pass the check
    assert (
        posts[0]["text"].startswith("Pleural effusion is the presence")
        and S2 not in posts[0]["text"]
    )
    partial = [u["text"] for u in updates[:-1]]
    assert any(S2 in t and S3 not in t for t in partial)
    assert all(UNSUPPORTED not in p["text"] for p in [*posts, *updates])  # never shown
    assert updates[-1]["text"] == expected[0][0]  # the last update is the final rendering
    assert len(posts) == 1  # one message, edited in place


def test_emergency_banner_leads_the_streamed_text(harness, mock):
    live = harness(
        {"stream": True, "stream_interval_s": 0.0},
        llm=SlowLLM(default=ANSWER),
        registry=fake_registry(),
    )
    live.event(mention("crushing chest pain: " + QUESTION, ts="1700000003.000100"))
    first = mock.calls_to("chat.postMessage")[0]
    assert (
        first["blocks"][-1]["elements"][0]["text"] == messages.SLACK_STREAMING
    )  # a streamed preview
    assert first["blocks"][0]["type"] == "header" and "emergency" in str(first["blocks"][0]).lower()
    final = mock.posted()[0]["blocks"]
    assert final[0]["type"] == "header"


def test_a_web_api_that_cannot_be_reached_breaks_no_thread(harness, mock, monkeypatch):
    import threading
    from urllib.error import URLError

    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(repr(args.exc_value)))
    live = harness(
        {"stream": True, "stream_interval_s": 0.0},
        llm=SlowLLM(default=ANSWER),
        registry=fake_registry(),
    )

    def refused(**_kw):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(live.front.client, "chat_postMessage", refused)
    monkeypatch.setattr(live.front.client, "chat_update", refused)
    live.event(mention(QUESTION, ts="1700000004.000100"))
    assert crashed == []
    assert len(live.bot.history("slack:T0TEAM:C0CLIN:1700000004.000100")) == 1  # stored
    # answered as far as the ledger goes: a retry does not run the turn again
    live.event(mention(QUESTION, ts="1700000004.000100"), extra={"x-slack-retry-num": "1"})
    assert len(live.bot.history("slack:T0TEAM:C0CLIN:1700000004.000100")) == 1


def test_patient_mode_answers_are_not_streamed(harness, mock):
    live = harness(
        {"stream": True, "stream_interval_s": 0.0, "channel_modes": {"C0PAT": "patient"}},
        llm=SlowLLM(default=ANSWER),
        registry=fake_registry(),
    )
    live.event(mention(QUESTION, ts="1700000005.000100", channel="C0PAT"))
    assert live.bot.history("slack:T0TEAM:C0PAT:1700000005.000100")[0].mode == "patient"
    posts = mock.calls_to("chat.postMessage")
    assert posts and all(messages.SLACK_STREAMING not in str(p["blocks"]) for p in posts)
    assert mock.calls_to("chat.update") == []  # only the final, fully checked message
