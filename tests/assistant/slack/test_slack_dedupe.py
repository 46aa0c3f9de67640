"""Event claims in the store (SQLite here; PostgreSQL in test_slack_instances.py): once per
message across restarts, taken over after a crash, with a TTL, and in thread order."""

from __future__ import annotations

import threading
import time

from assistant.store import CaseStore, EventLedger
from tests.assistant.slack.slack_helpers import LOG, TEAM, mention, message

ROOT = "1700000000.000100"
KEY = f"slack:{TEAM}:C0CLIN:{ROOT}"


def _ledger(store: CaseStore, owner: str, *, ttl_s: float = 60, lease_s: float = 30):
    ledger = EventLedger(store, owner=owner, ttl_s=ttl_s, lease_s=lease_s)
    ledger.heartbeat()
    return ledger


def test_a_claim_is_won_once_among_threads_and_instances(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    a, b = _ledger(store, "a"), _ledger(store, "b")
    wins: list[bool] = []
    threads = [
        threading.Thread(target=lambda led=led: wins.append(led.claim("m1", thread="t", seq="1")))
        for led in (a, b) * 10
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    store.close()


def test_done_is_never_taken_again_a_dead_claim_is(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    a = _ledger(store, "a", lease_s=0.3)
    assert a.claim("m1", thread="t", seq="1") and a.claim("m2", thread="t", seq="2")
    a.finish("m1")
    b = _ledger(store, "b", lease_s=0.3)
    assert not b.claim("m1", thread="t", seq="1")  # done
    assert not b.claim("m2", thread="t", seq="2")  # a's claim, and a is alive
    time.sleep(0.5)  # a stops beating: crashed before answering m2
    b.heartbeat()
    assert b.claim("m2", thread="t", seq="2")  # the retry is answered by b
    assert not b.claim("m1", thread="t", seq="1")
    store.close()


def test_release_and_ttl(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    a, b = _ledger(store, "a", ttl_s=0.3), _ledger(store, "b", ttl_s=0.3)
    assert a.claim("m1", thread="t", seq="1")
    a.release("m1")  # not answered (queue full): a retry may take it at once
    assert b.claim("m1", thread="t", seq="1")
    b.finish("m1")
    assert not a.claim("m1", thread="t", seq="1")
    time.sleep(0.4)
    a.heartbeat()  # purges expired rows
    assert a.claim("m1", thread="t", seq="1")  # forgotten after the TTL
    store.close()


def test_earlier_pending_sees_only_other_live_instances(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    a, b = _ledger(store, "a"), _ledger(store, "b")
    assert a.claim("m1", thread="t", seq="1700000001.000100")
    assert b.claim("m2", thread="t", seq="1700000002.000100")
    assert b.earlier_pending("t", "1700000002.000100", "m2")
    assert not a.earlier_pending("t", "1700000001.000100", "m1")
    assert a.earlier_pending("t", "1700000003.000100", "m3")  # b's m2 is still open
    b.finish("m2")
    assert not a.earlier_pending("t", "1700000003.000100", "m3")  # own claims: own queue
    a.finish("m1")
    assert not b.earlier_pending("t", "1700000002.000100", "m2")
    assert a.knows_thread("t") and not a.knows_thread("other")
    store.close()


def test_a_retry_after_a_restart_is_not_answered_again(harness, mock):
    h = harness()
    ev = mention("FINDINGS: Small left pleural effusion.")
    h.event(ev, event_id="Ev0RESTART")
    h.close()  # the process restarts between the delivery and Slack's retry
    h2 = harness()
    h2.event(ev, event_id="Ev0RESTART", extra={"x-slack-retry-num": "1"})
    again = message(
        "<@U0BOT> FINDINGS: Small left pleural effusion.", ts=ROOT, thread_ts=ROOT
    )  # the same message as a `message` event, after the restart
    h2.event(again, event_id="Ev0OTHER")
    assert len(mock.calls_to("chat.postMessage")) == 1
    assert len(h2.bot.history(KEY)) == 1


def test_a_message_claimed_by_a_crashed_instance_is_answered_by_the_retry(harness, mock):
    h = harness({"lease_s": 0.3})
    dead = EventLedger(h.bot.store, owner="crashed:1", ttl_s=60, lease_s=0.3)
    dead.heartbeat()
    assert dead.claim(f"msg:{TEAM}:C0CLIN:{ROOT}", thread=KEY, seq=ROOT)  # then it died
    ev = mention("FINDINGS: Small left pleural effusion.")
    h.event(ev, event_id="Ev0CRASH")
    assert mock.calls_to("chat.postMessage") == []  # still within its lease: not ours yet
    time.sleep(0.5)
    h.event(ev, event_id="Ev0CRASH", extra={"x-slack-retry-num": "2"})
    assert len(mock.calls_to("chat.postMessage")) == 1
    assert len(h.bot.history(KEY)) == 1


def test_shutdown_hands_back_unanswered_claims(harness, mock):
    h = harness(workers=1)
    LOG.gate.clear()
    h.event(mention("FINDINGS: HOLD effusion.", channel="C0SLOW"), wait=False)
    assert LOG.entered.wait(10)
    # A second message waits in the queue behind the held one when the instance stops.
    ledger = h.front.ledger.ledger
    assert ledger.claim("msg:manual", thread="t", seq="1")
    ledger.leave()
    other = EventLedger(h.bot.store, owner="next", ttl_s=60, lease_s=30)
    assert other.claim("msg:manual", thread="t", seq="1")
    LOG.gate.set()
    assert h.front.wait_idle(30)
