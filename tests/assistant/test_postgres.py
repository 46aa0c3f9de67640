"""The case store on a real PostgreSQL server (started here on loopback, thrown away after)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.config import Settings, load_settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import StoreError
from assistant.core.llm import ScriptedLLM
from assistant.core.schema import Turn
from assistant.core.state import empty_case
from assistant.service import Assistant
from assistant.store import CaseStore

pytestmark = pytest.mark.postgres


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail(
            "PostgreSQL server binaries not found: install Debian's postgresql (.ci/run does)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="clinassist-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(tmp, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(tmp, ignore_errors=True)


def test_turns_state_and_audit_roundtrip(pg_url: str) -> None:
    store = CaseStore(pg_url)
    state = empty_case("clinician")
    state["findings"] = [{"text": "effusion", "label": "FINDING"}]
    t = store.commit_turn(
        "pg-1", state, Turn(case_id="pg-1", mode="clinician", reply="r", user="u"), []
    )
    assert t.index == 0
    sha = store.put_blob(b"\x89PNG data", "image/png", case_id="pg-1")
    assert store.get_blob(sha, case_id="pg-1") == b"\x89PNG data"
    with pytest.raises(StoreError):
        store.get_blob(sha, case_id="pg-2")  # another case's blob
    loaded = store.load_case("pg-1")
    assert loaded is not None and loaded[0]["findings"][0]["text"] == "effusion"
    store.reset_case("pg-1")
    assert store.count_blobs() == 0
    store.close()


def test_two_instances_serialize_turns_on_one_case(pg_url: str) -> None:
    """Two stores = two app instances: the advisory lock keeps turn numbers contiguous."""
    a, b = CaseStore(pg_url), CaseStore(pg_url)

    def drive(store: CaseStore, tag: str) -> None:
        for i in range(15):
            with store.case_lock("pg-shared"):
                store.load_case("pg-shared")
                time.sleep(0.001)
                store.commit_turn(
                    "pg-shared",
                    empty_case("clinician"),
                    Turn(case_id="pg-shared", mode="clinician", reply="r", user=f"{tag}{i}"),
                    [],
                )

    threads = [threading.Thread(target=drive, args=(s, tag)) for s, tag in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hist = a.history("pg-shared")
    assert [t.index for t in hist] == list(range(30))
    a.close()
    b.close()


def test_assistant_on_postgres_survives_restart(pg_url: str, tmp_path: Path) -> None:
    settings: Settings = load_settings(
        None,
        environ={},
        data_dir=str(tmp_path),
        store={"url": pg_url},
        embeddings={"backend": "hashing"},
    )
    bot = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder())
    bot.respond("pg-case", "hello", mode="patient")
    bot.close()
    again = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder())
    assert [t.user for t in again.history("pg-case")] == ["hello"]
    assert again.case_mode("pg-case") == "patient"
    again.close()
