from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.core.errors import CaseNotFoundError, StoreError
from assistant.core.schema import Turn
from assistant.core.state import empty_case
from assistant.store import AuditEntry, CaseStore


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    s = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite'}")
    yield s
    s.close()


def turn(case_id: str, text: str) -> Turn:
    return Turn(case_id=case_id, mode="clinician", reply=f"re: {text}", user=text)


def test_turns_are_numbered_and_persist_across_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    s = CaseStore(url)
    for i in range(3):
        stored = s.commit_turn("bed-1", empty_case("clinician"), turn("bed-1", f"m{i}"), [])
        assert stored.index == i
    s.close()
    again = CaseStore(url)
    hist = again.history("bed-1")
    assert [t.user for t in hist] == ["m0", "m1", "m2"]
    assert [t.index for t in hist] == [0, 1, 2]
    assert again.list_cases()[0].turns == 3
    assert again.integrity_ok()
    again.close()


def test_blobs_are_content_addressed(store: CaseStore) -> None:
    a = store.put_blob(b"same bytes", "image/png", case_id="c1")
    b = store.put_blob(b"same bytes", "image/png", case_id="c1")
    assert a == b and len(a) == 64
    assert store.get_blob(a, case_id="c1") == b"same bytes"
    with pytest.raises(StoreError):
        store.get_blob("0" * 64, case_id="c1")


def test_state_and_audit_commit_together(store: CaseStore) -> None:
    state = empty_case("clinician")
    state["findings"] = [{"text": "effusion", "label": "FINDING"}]
    store.commit_turn(
        "c1",
        state,
        turn("c1", "x"),
        [AuditEntry(actor="t", action="tool", tool="extract_entities", ok=True, ms=3)],
    )
    loaded = store.load_case("c1")
    assert loaded is not None
    assert loaded[0]["findings"][0]["text"] == "effusion" and loaded[1] == 1
    log = store.audit_log("c1")
    assert log[0]["tool"] == "extract_entities" and log[0]["actor"] == "t"


def test_reset_keeps_audit_and_mode(store: CaseStore) -> None:
    store.commit_turn(
        "c2", empty_case("patient"), Turn(case_id="c2", mode="patient", reply="r", user="u"), []
    )
    store.reset_case("c2", actor="tester")
    assert store.history("c2") == []
    loaded = store.load_case("c2")
    assert loaded is not None and loaded[0]["mode"] == "patient" and loaded[1] == 0
    assert store.audit_log("c2")[-1]["action"] == "reset"
    with pytest.raises(CaseNotFoundError):
        store.reset_case("nope")


def test_concurrent_commits_on_one_case_never_collide(store: CaseStore) -> None:
    def worker(n: int) -> None:
        for i in range(10):
            with store.case_lock("shared"):
                store.commit_turn("shared", empty_case("clinician"), turn("shared", f"{n}-{i}"), [])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hist = store.history("shared")
    assert [t.index for t in hist] == list(range(40))
    assert sorted(t.user for t in hist) == sorted(f"{n}-{i}" for n in range(4) for i in range(10))
