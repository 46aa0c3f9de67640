"""Several Slack instances sharing one real PostgreSQL server (started on loopback by the
suite): every event answered exactly once, across instances, retries and restarts, and a
thread's messages answered in order."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from assistant.core.config import load_settings
from assistant.slack.mock import event_body
from assistant.store import CaseStore, EventLedger
from tests.assistant.slack.slack_helpers import LOG, TEAM, Harness, SlackProcess, mention, message
from tests.assistant.test_postgres import pg_url  # noqa: F401  (the throwaway server)

pytestmark = pytest.mark.postgres

RETRY = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}


def _answers(mock) -> Counter[str]:
    return Counter(str(m.get("thread_ts")) for m in mock.posted())


def _settle(mock, seconds: float = 2.0, timeout: float = 60.0) -> Counter[str]:
    """The answers once nothing new was posted for ``seconds``."""
    deadline = time.monotonic() + timeout
    last, since = len(mock.calls), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if len(mock.calls) != last:
            last, since = len(mock.calls), time.monotonic()
        elif time.monotonic() - since >= seconds:
            break
    return _answers(mock)


def _wait_answer(mock, thread_ts: str, timeout: float = 60.0, count: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while _answers(mock)[thread_ts] < count:
        assert time.monotonic() < deadline, f"no answer in {thread_ts}"
        time.sleep(0.05)


def test_two_processes_answer_every_event_exactly_once(tmp_path, mock, pg_url):  # noqa: F811
    a = SlackProcess(tmp_path, mock, name="a", store_url=pg_url)
    b = SlackProcess(tmp_path, mock, name="b", store_url=pg_url)
    procs = [a, b]
    try:
        t1, t2, t3, t4 = (f"170000000{i}.000100" for i in range(1, 5))
        # 1. delivered to A, Slack's retry (and the same message as a `message` event) to B
        e1 = event_body(mention("hello", ts=t1), event_id="Ev1")
        assert a.event(e1) == 200
        _wait_answer(mock, t1)
        assert b.event(e1, RETRY) == 200
        same = event_body(message("<@U0BOT> hello", ts=t1, thread_ts=t1), event_id="Ev1b")
        assert b.event(same) == 200

        # 2. the delivery and its retry reach both instances at the same moment
        e2 = event_body(mention("hello", ts=t2), event_id="Ev2")
        both = [
            threading.Thread(target=a.event, args=(e2,)),
            threading.Thread(target=b.event, args=(e2, RETRY)),
        ]
        for t in both:
            t.start()
        for t in both:
            t.join()

        # 3. A answers, is restarted (clean stop), and the retry reaches the new A
        e3 = event_body(mention("hello", ts=t3), event_id="Ev3")
        assert a.event(e3) == 200
        _wait_answer(mock, t3)
        assert a.stop() == 0
        a = SlackProcess(tmp_path, mock, name="a", store_url=pg_url)
        procs.append(a)
        assert a.event(e3, RETRY) == 200

        # 4. B answers and is killed (-9); the retry reaches A
        e4 = event_body(mention("hello", ts=t4), event_id="Ev4")
        assert b.event(e4) == 200
        _wait_answer(mock, t4)
        b.stop(kill=True)
        assert a.event(e4, RETRY) == 200

        # 5. a reply in thread 1 (no mention) reaches the new A, which never saw thread 1
        reply = event_body(message("hello again", ts="1700000009.000100", thread_ts=t1))
        assert a.event(reply) == 200
        _wait_answer(mock, t1, count=2)  # a fresh process may take a while on a loaded machine

        answers = _settle(mock)
        assert answers == Counter({t1: 2, t2: 1, t3: 1, t4: 1}), answers
        store = CaseStore(pg_url)
        turns = {t: len(store.history(f"slack:{TEAM}:C0CLIN:{t}")) for t in (t1, t2, t3, t4)}
        store.close()
        assert turns == {t1: 2, t2: 1, t3: 1, t4: 1}
    finally:
        for p in procs:
            p.stop()


def test_a_retry_takes_over_the_claim_of_a_crashed_instance(pg_url):  # noqa: F811
    store = CaseStore(pg_url)
    crashed = EventLedger(store, owner="crashed", ttl_s=60, lease_s=0.5)
    crashed.heartbeat()
    assert crashed.claim("msg:pg:1", thread="pg-t", seq="1")
    alive = EventLedger(store, owner="alive", ttl_s=60, lease_s=0.5)
    alive.heartbeat()
    assert not alive.claim("msg:pg:1", thread="pg-t", seq="1")
    time.sleep(0.7)
    alive.heartbeat()
    wins: list[bool] = []
    rivals = [EventLedger(store, owner=f"r{i}", ttl_s=60, lease_s=0.5) for i in range(6)]
    for r in rivals:
        r.heartbeat()
    threads = [
        threading.Thread(
            target=lambda r=r: wins.append(r.claim("msg:pg:1", thread="pg-t", seq="1"))
        )
        for r in rivals
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1  # exactly one instance takes the crashed claim over
    store.close()


def test_a_threads_messages_are_answered_in_order_across_instances(
    tmp_path,
    mock,
    pg_url,  # noqa: F811
):
    def instance(name: str) -> Harness:
        settings = load_settings(
            None,
            environ={},
            data_dir=tmp_path / name,
            store={"url": pg_url},
            slack={"file_hosts": [mock.url.split("//", 1)[1]]},
        )
        return Harness(mock, settings, workers=1)

    LOG.calls.clear()
    LOG.entered.clear()
    a, b = instance("a"), instance("b")
    try:
        root = "1700000100.000100"
        a.event(mention("FINDINGS: Small left pleural effusion.", ts=root, channel="C0ORD"))
        # A's only worker is held by another case, so A's next message in the thread waits in
        # its queue (claimed, not started) while B receives the message after it.
        LOG.gate.clear()
        a.event(mention("FINDINGS: HOLD effusion.", channel="C0BUSY"), wait=False)
        assert LOG.entered.wait(20)
        first = message(
            "IMPRESSION: first.", ts="1700000101.000100", thread_ts=root, channel="C0ORD"
        )
        second = message(
            "IMPRESSION: second.", ts="1700000102.000100", thread_ts=root, channel="C0ORD"
        )
        a.event(first, wait=False)
        time.sleep(0.3)
        b.event(second, wait=False)
        time.sleep(1.0)
        key = f"slack:{TEAM}:C0ORD:{root}"
        assert len(b.bot.history(key)) == 1  # B waits for the earlier message held by A
        LOG.gate.set()
        assert a.front.wait_idle(60) and b.front.wait_idle(60)
        assert [t.user for t in b.bot.history(key)][1:] == [
            "IMPRESSION: first.",
            "IMPRESSION: second.",
        ]
    finally:
        LOG.gate.set()
        a.close()
        b.close()


def test_instances_starting_together_on_a_new_database_all_start(pg_url):  # noqa: F811
    """Found by the deployment rehearsal: two instances racing to create the tables."""
    import uuid

    import psycopg

    name = f"fresh_{uuid.uuid4().hex[:8]}"
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    errors: list[BaseException] = []
    stores: list[CaseStore] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            stores.append(CaseStore(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 6
    for s in stores:
        s.close()
