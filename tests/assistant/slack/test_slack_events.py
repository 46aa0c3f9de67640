"""Signed events dispatched into the Bolt app against the mock Slack Web API."""

from __future__ import annotations

import json
import threading
import time

from assistant.policy import messages
from assistant.slack.mock import event_body, sign
from tests.assistant.slack.slack_helpers import HEATMAP, LOG, PNG, SECRET, TEAM, mention, message

ROOT = "1700000000.000100"
KEY = f"slack:{TEAM}:C0CLIN:{ROOT}"


def _texts(mock):
    return [m.get("text", "") for m in mock.posted()]


# -- signatures -----------------------------------------------------------------------------
def test_forged_signature_is_rejected_and_nothing_runs(harness, mock):
    h = harness()
    raw = json.dumps(event_body(mention("FINDINGS: small effusion.")))
    forged = sign("not-the-secret", raw)
    assert h.dispatch(raw, forged).status == 401
    assert h.front.wait_idle(10)
    assert mock.calls_to("chat.postMessage") == []
    assert not h.bot.store.exists(KEY)


def test_replay_older_than_five_minutes_is_rejected(harness, mock):
    h = harness()
    raw = json.dumps(event_body(mention("FINDINGS: small effusion.")))
    old = sign(SECRET, raw, timestamp=int(time.time()) - 6 * 60)
    assert h.dispatch(raw, old).status == 401
    fresh = sign(SECRET, raw, timestamp=int(time.time()) - 60)
    assert h.dispatch(raw, fresh).status == 200
    assert h.front.wait_idle(10)
    assert len(mock.calls_to("chat.postMessage")) == 1


def test_tampered_body_is_rejected(harness):
    h = harness()
    raw = json.dumps(event_body(mention("FINDINGS: small effusion.")))
    headers = sign(SECRET, raw)
    assert h.dispatch(raw.replace("small", "large"), headers).status == 401


# -- a case is a thread ---------------------------------------------------------------------------
def test_mention_starts_a_case_and_replies_in_its_thread(harness, mock):
    h = harness()
    resp = h.event(mention("FINDINGS: Small left pleural effusion. No pneumothorax."))
    assert resp.status == 200
    posts = mock.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0]["channel"] == "C0CLIN" and posts[0]["thread_ts"] == ROOT
    assert "Read: FINDINGS: Small left pleural effusion" in posts[0]["text"]
    turns = h.bot.history(KEY)
    assert len(turns) == 1
    assert (
        turns[0].user == "FINDINGS: Small left pleural effusion. No pneumothorax."
    )  # bot mention removed
    audit = h.bot.audit(KEY)
    assert audit[0]["actor"] == f"slack:{TEAM}:U0DOC"


def test_thread_reply_continues_the_case_without_a_mention(harness, mock):
    h = harness()
    h.event(mention("FINDINGS: Small left pleural effusion."))
    h.event(
        message("IMPRESSION: effusion unchanged, small.", ts="1700000001.000200", thread_ts=ROOT)
    )
    assert [t.index for t in h.bot.history(KEY)] == [0, 1]
    posts = mock.calls_to("chat.postMessage")
    assert [p["thread_ts"] for p in posts] == [ROOT, ROOT]


def test_reply_right_after_the_mention_is_not_lost(harness, mock):
    h = harness()
    LOG.gate.clear()
    h.event(mention("FINDINGS: HOLD Small left pleural effusion."), wait=False)
    assert LOG.entered.wait(10)
    h.event(
        message("IMPRESSION: small effusion on the left.", ts="1700000001.000200", thread_ts=ROOT),
        wait=False,
    )
    LOG.gate.set()
    assert h.front.wait_idle(30)
    assert len(h.bot.history(KEY)) == 2


def test_threads_the_bot_is_not_in_and_top_level_chatter_are_ignored(harness, mock):
    h = harness()
    h.event(
        message(
            "FINDINGS: unrelated thread.", ts="1700000005.000100", thread_ts="1700000004.000100"
        )
    )
    h.event(message("FINDINGS: top level, no mention.", ts="1700000006.000100"))
    assert mock.calls_to("chat.postMessage") == []
    assert h.bot.cases() == []


def test_direct_message_starts_a_case(harness, mock):
    h = harness()
    h.event(
        message(
            "FINDINGS: right lower lobe opacity.",
            ts="1700000010.000100",
            channel="D0DM",
            channel_type="im",
        )
    )
    posts = mock.calls_to("chat.postMessage")
    assert posts[0]["channel"] == "D0DM" and posts[0]["thread_ts"] == "1700000010.000100"
    assert h.bot.store.exists(f"slack:{TEAM}:D0DM:1700000010.000100")


def test_bots_own_messages_and_edits_do_not_start_turns(harness, mock):
    h = harness()
    h.event(mention("FINDINGS: small effusion."))
    h.event(message("FINDINGS: echo", ts="1700000002.000100", thread_ts=ROOT, bot_id="B0OTHER"))
    h.event(
        message(
            "FINDINGS: edited", ts="1700000003.000100", thread_ts=ROOT, subtype="message_changed"
        )
    )
    assert len(h.bot.history(KEY)) == 1


# -- retries / idempotency ----------------------------------------------------------------------
def test_slack_retries_never_duplicate_a_turn(harness, mock):
    h = harness()
    ev = mention("FINDINGS: Small left pleural effusion.")
    h.event(ev, event_id="Ev0RETRY")
    for n in (1, 2, 3):
        resp = h.event(
            ev,
            event_id="Ev0RETRY",
            extra={"x-slack-retry-num": str(n), "x-slack-retry-reason": "http_timeout"},
        )
        assert resp.status == 200
    assert len(h.bot.history(KEY)) == 1
    assert len(mock.calls_to("chat.postMessage")) == 1


def test_mention_and_message_events_for_one_message_give_one_turn(harness, mock):
    h = harness()
    h.event(mention("FINDINGS: Small left pleural effusion."))
    reply_ts = "1700000002.000300"
    text = "<@U0BOT> IMPRESSION: effusion is small."
    h.event(message(text, ts=reply_ts, thread_ts=ROOT), event_id="Ev0A")
    h.event(
        {**mention("IMPRESSION: effusion is small.", ts=reply_ts, thread_ts=ROOT)}, event_id="Ev0B"
    )
    turns = h.bot.history(KEY)
    assert len(turns) == 2
    assert turns[1].user == "IMPRESSION: effusion is small."


# -- authorization and modes -----------------------------------------------------------------------
def test_unauthorized_channel_gets_a_polite_reason_and_no_case(harness, mock):
    h = harness({"allowed_channels": ["C0OK"]})
    h.event(mention("FINDINGS: small effusion.", channel="C0SECRET"))
    eph = mock.calls_to("chat.postEphemeral")
    assert len(eph) == 1
    assert eph[0]["text"] == messages.SLACK_NOT_ALLOWED_CHANNEL and eph[0]["user"] == "U0DOC"
    assert mock.calls_to("chat.postMessage") == []
    assert h.bot.cases() == []
    assert LOG.calls == []


def test_unauthorized_user_and_team_are_refused(harness, mock):
    h = harness({"allowed_users": ["U0BOSS"]})
    h.event(mention("FINDINGS: small effusion."))
    assert mock.calls_to("chat.postEphemeral")[0]["text"] == messages.SLACK_NOT_ALLOWED_USER
    h2 = harness({"allowed_teams": ["T0OTHER"]})
    h2.event(mention("FINDINGS: small effusion.", ts="1700000009.000100"))
    assert TEAM in mock.calls_to("chat.postEphemeral")[1]["text"]
    assert h.bot.cases() == []


def test_allowed_channel_and_dm_wildcard(harness, mock):
    h = harness({"allowed_channels": ["C0CLIN", "im"], "allowed_users": ["U0DOC"]})
    h.event(mention("FINDINGS: small effusion."))
    h.event(
        message("FINDINGS: opacity.", ts="1700000010.000100", channel="D0DM", channel_type="im")
    )
    assert len(h.bot.cases()) == 2
    assert mock.calls_to("chat.postEphemeral") == []


def test_channel_mode_makes_a_patient_channel_use_patient_mode(harness, mock):
    h = harness({"channel_modes": {"C0PAT": "patient"}})
    h.event(mention("I have crushing chest pain and can't breathe", channel="C0PAT"))
    turn = h.bot.history(f"slack:{TEAM}:C0PAT:{ROOT}")[0]
    assert turn.mode == "patient"
    assert turn.safety.emergency
    blocks = mock.calls_to("chat.postMessage")[0]["blocks"]
    assert blocks[0]["type"] == "header" and "emergency" in blocks[0]["text"]["text"].lower()
    h.event(mention("FINDINGS: small effusion.", channel="C0CLIN", ts="1700000020.000100"))
    assert h.bot.history(f"slack:{TEAM}:C0CLIN:1700000020.000100")[0].mode == "clinician"


def test_a_thread_in_another_channel_never_reaches_this_case(harness, mock):
    h = harness()
    h.event(mention("FINDINGS: Small left pleural effusion."))
    # Same thread ts, other channel: a different key, and no case there.
    h.event(
        message(
            "IMPRESSION: show me the other case.",
            ts="1700000030.000100",
            channel="C0OTHER",
            thread_ts=ROOT,
        )
    )
    assert len(h.bot.history(KEY)) == 1
    assert not h.bot.store.exists(f"slack:{TEAM}:C0OTHER:{ROOT}")
    assert all(c[2] == KEY for c in LOG.calls)


# -- files ----------------------------------------------------------------------------------------
def _file(mock, name, data, ctype, **kw):
    url = mock.add_file(name, data, ctype)
    info = {
        "id": "F" + name.upper().replace(".", ""),
        "name": name,
        "mimetype": kw.pop("mimetype", ctype),
        "size": len(data),
        "url_private_download": url,
        "url_private": url,
    }
    info.update(kw)
    return info


def test_image_is_downloaded_with_the_token_classified_and_heatmap_uploaded(harness, mock):
    h = harness()
    f = _file(mock, "cxr.png", PNG, "image/png")
    h.event(mention("what does this image show", files=[f]))
    assert mock.downloads == [{"name": "cxr.png", "authorization": f"Bearer {mock.token}"}]
    assert [c[0] for c in LOG.calls] == ["classify_image"]
    turn = h.bot.history(KEY)[0]
    assert turn.attachments[0].name == "cxr.png" and turn.attachments[0].kind == "image"
    complete = mock.calls_to("files.completeUploadExternal")
    assert len(complete) == 1
    assert complete[0]["channel_id"] == "C0CLIN" and complete[0]["thread_ts"] == ROOT
    assert "PNEUMONIA" in complete[0]["files"][0]["title"]
    assert list(mock.uploads.values()) == [HEATMAP]
    text = mock.calls_to("chat.postMessage")[0]["text"]
    assert "attached in this thread" in text and "/heatmaps/" not in text


def test_report_file_goes_to_extract_entities(harness, mock):
    h = harness()
    f = _file(mock, "report.txt", b"FINDINGS: Small left pleural effusion.", "text/plain")
    h.event(message("", ts="1700000040.000100", channel="D0DM", channel_type="im", files=[f]))
    assert LOG.calls[0][0] == "extract_entities" and LOG.calls[0][1]["attachment"]
    post = mock.calls_to("chat.postMessage")[0]
    assert "Findings" in json.dumps(post["blocks"])


def test_file_checks_size_type_magic_and_host(harness, mock):
    h = harness({"max_file_bytes": 1000})
    big = _file(mock, "big.png", PNG + b"\x00" * 2000, "image/png")
    fake_png = _file(mock, "fake.png", b"this is not an image", "image/png")
    html_page = _file(mock, "page.png", PNG, "image/png")
    html_page["url_private_download"] = mock.url + "/files/missing-scope"
    mock.files["missing-scope"] = (b"<html>login</html>", "text/html")
    foreign = _file(mock, "evil.png", PNG, "image/png")
    foreign["url_private_download"] = "https://attacker.example/evil.png"
    mismatch = _file(mock, "note.txt", PNG, "text/plain")
    h.event(mention("look", files=[big, fake_png, html_page, foreign, mismatch]))
    names = [d["name"] for d in mock.downloads]
    assert "big.png" not in names  # refused by its size before downloading
    assert all("attacker" not in d["name"] for d in mock.downloads)
    assert not any(c[0] == "classify_image" for c in LOG.calls)
    post = mock.calls_to("chat.postMessage")[0]
    text = post["text"]
    assert post["blocks"][0]["type"] == "context"  # the skipped files are listed first
    for reason in (
        "limit is 1,000",
        "not a PNG, JPEG, DICOM",
        "web page",
        "not a Slack file host",
        "does not match",
    ):
        assert reason in text, reason


def test_download_that_grows_past_the_limit_is_cut(harness, mock):
    h = harness({"max_file_bytes": 100})
    f = _file(mock, "liar.png", PNG * 10, "image/png")
    f["size"] = 10  # Slack's metadata says small; the body is not
    h.event(mention("look", files=[f]))
    assert "larger than the limit" in mock.calls_to("chat.postMessage")[0]["text"]
    assert LOG.calls == []


# -- reliability -------------------------------------------------------------------------------
def test_rate_limited_web_api_calls_are_retried(harness, mock):
    h = harness()
    mock.rate_limit("chat.postMessage", times=2, retry_after=0)
    h.event(mention("FINDINGS: Small left pleural effusion."))
    statuses = [c["status"] for c in mock.calls if c["method"] == "chat.postMessage"]
    assert statuses == [429, 429, 200]
    assert len(mock.posted()) == 1


def test_rate_limited_file_download_is_retried(harness, mock, monkeypatch):
    h = harness()
    f = _file(mock, "cxr.png", PNG, "image/png")
    original = mock._handler

    calls = {"n": 0}

    def flaky():
        handler = original()
        get = handler.do_GET

        def do_get(self):
            calls["n"] += 1
            if calls["n"] == 1:
                self._reply(429, b"slow down", "text/plain", {"Retry-After": "0"})
                return
            get(self)

        handler.do_GET = do_get
        return handler

    mock._server.RequestHandlerClass = flaky()
    h.event(mention("look", files=[f]))
    assert calls["n"] == 2
    assert [c[0] for c in LOG.calls] == ["classify_image"]


def test_a_failing_case_is_answered_and_does_not_block_others(harness, mock, monkeypatch):
    h = harness()
    real = h.bot.respond

    def respond(case_id, *a, **kw):
        if ":C0BAD:" in case_id:
            raise RuntimeError("boom")
        return real(case_id, *a, **kw)

    monkeypatch.setattr(h.bot, "respond", respond)
    h.event(mention("FINDINGS: effusion.", channel="C0BAD"), wait=False)
    h.event(mention("FINDINGS: Small left pleural effusion."), wait=False)
    assert h.front.wait_idle(30)
    by_channel = {m["channel"]: m["text"] for m in mock.posted()}
    assert by_channel["C0BAD"] == messages.SLACK_FAILED
    assert "Read: FINDINGS" in by_channel["C0CLIN"]


def test_a_slow_case_does_not_block_other_cases(harness, mock):
    h = harness()
    LOG.gate.clear()
    h.event(mention("FINDINGS: HOLD effusion.", channel="C0SLOW"), wait=False)
    assert LOG.entered.wait(10)
    h.event(mention("FINDINGS: Small left pleural effusion."), wait=False)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(m["channel"] == "C0CLIN" for m in mock.posted()):
        time.sleep(0.05)
    assert any(m["channel"] == "C0CLIN" for m in mock.posted())
    assert not any(m["channel"] == "C0SLOW" for m in mock.posted())
    LOG.gate.set()
    assert h.front.wait_idle(30)
    assert any(m["channel"] == "C0SLOW" for m in mock.posted())


def test_long_turn_shows_working_then_updates_it(harness, mock):
    h = harness(working_after_s=0.05)
    LOG.gate.clear()
    h.event(mention("FINDINGS: HOLD Small left pleural effusion."), wait=False)
    assert LOG.entered.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not mock.calls_to("chat.postMessage"):
        time.sleep(0.02)
    first = mock.calls_to("chat.postMessage")
    assert first[0]["text"] == messages.SLACK_WORKING
    LOG.gate.set()
    assert h.front.wait_idle(30)
    updates = mock.calls_to("chat.update")
    assert len(updates) == 1 and "Read: FINDINGS" in updates[0]["text"]
    assert len(mock.posted()) == 1  # the placeholder became the answer


def test_long_answer_is_split_over_several_messages(harness, mock):
    h = harness()
    h.event(mention("FINDINGS: LONG Small left pleural effusion."))
    posts = mock.calls_to("chat.postMessage")
    assert len(posts) >= 4
    assert all(p["thread_ts"] == ROOT for p in posts)
    for p in posts:
        assert len(p["blocks"]) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in p["blocks"] if b["type"] == "section")
    joined = "".join(
        b["text"]["text"] for p in posts for b in p["blocks"] if b["type"] == "section"
    )
    assert joined.count("word") >= 3000


def test_events_are_acknowledged_before_the_turn_finishes(harness, mock):
    h = harness()
    LOG.gate.clear()
    done = threading.Event()

    def send():
        h.event(mention("FINDINGS: HOLD effusion."), wait=False)
        done.set()

    threading.Thread(target=send).start()
    assert done.wait(10)  # the ack came back while the tool is still held
    assert LOG.entered.wait(10)
    assert mock.calls_to("chat.postMessage") == []
    LOG.gate.set()
    assert h.front.wait_idle(30)


# -- the Assistant side panel ------------------------------------------------------------------------
def test_assistant_thread_started_greets_and_suggests_prompts(harness, mock):
    h = harness()
    h.event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": "U0DOC",
                "channel_id": "D0DM",
                "thread_ts": "1700000050.000100",
                "context": {},
            },
        }
    )
    assert mock.calls_to("chat.postMessage")[0]["thread_ts"] == "1700000050.000100"
    prompts = mock.calls_to("assistant.threads.setSuggestedPrompts")
    assert len(prompts) == 1 and len(prompts[0]["prompts"]) == 3


def test_assistant_thread_message_sets_status_and_answers(harness, mock):
    h = harness()
    h.event(
        message(
            "FINDINGS: small effusion.",
            ts="1700000051.000100",
            thread_ts="1700000050.000100",
            channel="D0DM",
            channel_type="im",
        )
    )
    statuses = [c["status"] for c in mock.calls_to("assistant.threads.setStatus")]
    assert statuses[0] == "is thinking…"
    assert h.bot.store.exists(f"slack:{TEAM}:D0DM:1700000050.000100")
    assert mock.calls_to("chat.postMessage")[0]["thread_ts"] == "1700000050.000100"


def test_process_before_response_mode_still_acks_and_answers(harness, mock):
    """FaaS-style deployments: the listener only enqueues, so the ack is still immediate."""
    h = harness(process_before_response=True)
    assert h.event(mention("FINDINGS: Small left pleural effusion.")).status == 200
    assert len(mock.calls_to("chat.postMessage")) == 1


def test_dicom_file_is_accepted_by_its_magic_bytes(harness, mock):
    h = harness()
    from pydicom.data import get_testdata_file

    with open(str(get_testdata_file("CT_small.dcm")), "rb") as fh:  # decoded on arrival
        dicom = fh.read()
    f = _file(mock, "chest.dcm", dicom, "application/octet-stream", mimetype="application/dicom")
    h.event(mention("classify this", files=[f]))
    assert [c[0] for c in LOG.calls] == ["classify_image"]
    assert h.bot.history(KEY)[0].attachments[0].kind == "dicom"
    assert len(mock.calls_to("files.completeUploadExternal")) == 1
