"""KnowledgeIndex: ephemeral/persistent/HTTP Chroma, incremental ingest by content hash,
bad documents leave the index as it was."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import UserError
from knowledge.kb import ingest as ing
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.sources import PASSAGES, Chunk, DocumentError, aliases_of


def chunk(i: int, text: str, source: str = "fixture") -> Chunk:
    return Chunk(
        id=f"{source}:{i}",
        text=text,
        title=f"t{i}",
        source=source,
        type="definition",
        identifier=str(i),
        url="",
        licence="CC0",
        version="1",
    )


@pytest.fixture
def index() -> KnowledgeIndex:
    return KnowledgeIndex.ephemeral(HashingEmbedder(64))


def test_ephemeral_indexes_are_isolated(index: KnowledgeIndex) -> None:
    other = KnowledgeIndex.ephemeral(HashingEmbedder(64))
    index.ingest_chunks("a", [chunk(1, "pneumothorax")], fingerprint="f", version="1", licence="x")
    assert index.count(PASSAGES) == 1 and other.count(PASSAGES) == 0


def test_passage_text_is_stored_as_metadata_and_read_back_as_the_text(
    index: KnowledgeIndex,
) -> None:
    """Chroma gets the text as a metadata field, not a document (no full-text index to feed);
    every read returns it as the text, without that field; a passage stored the old way (as
    a document) reads the same."""
    from knowledge.kb.index import TEXT_KEY

    index.ingest_chunks("a", [chunk(1, "air in the pleura")], fingerprint="f", version="1",
                        licence="x")  # fmt: skip
    raw = index.collection(PASSAGES).get(ids=["fixture:1"], include=["documents", "metadatas"])
    assert raw["documents"] == [None] and raw["metadatas"][0][TEXT_KEY] == "air in the pleura"
    old_meta = {**chunk(2, "").metadata(), "source_key": "a", "ingested": "2026-01-01"}
    index.collection(PASSAGES).upsert(
        ids=["fixture:2"],
        documents=["fluid around the lung"],
        embeddings=index.embedder.embed(["fluid around the lung"]),
        metadatas=[old_meta],
    )
    got = index.get(PASSAGES, ["fixture:1", "fixture:2"])
    assert got["fixture:1"][0] == "air in the pleura" and TEXT_KEY not in got["fixture:1"][1]
    assert got["fixture:2"] == ("fluid around the lung", old_meta)
    ids, docs, metas = index.all_documents(PASSAGES)
    assert dict(zip(ids, docs, strict=True)) == {
        "fixture:1": "air in the pleura",
        "fixture:2": "fluid around the lung",
    }
    assert not any(TEXT_KEY in m for m in metas)
    hits = index.dense(PASSAGES, index.embedder.embed(["air in the pleura"])[0], 2)
    assert {h[0]: h[2] for h in hits} == dict(zip(ids, docs, strict=True))
    assert not any(TEXT_KEY in h[3] for h in hits)
    # re-ingested over the old row: Chroma keeps its old document, the new text wins
    index.ingest_chunks("a", [chunk(2, "fluid in the pleural space")], fingerprint="g",
                        version="2", licence="x")  # fmt: skip
    assert index.get(PASSAGES, ["fixture:2"])["fixture:2"][0] == "fluid in the pleural space"


def test_chunks_carry_metadata_and_ingest_date(index: KnowledgeIndex) -> None:
    index.ingest_chunks(
        "a", [chunk(1, "pleural effusion fluid")], fingerprint="f", version="1", licence="CC0"
    )
    ((doc, meta),) = index.get(PASSAGES, ["fixture:1"]).values()
    assert doc == "pleural effusion fluid"
    assert {
        "source",
        "title",
        "url",
        "licence",
        "version",
        "ingested",
        "identifier",
        "type",
    } <= set(meta)
    assert meta["source_key"] == "a" and len(meta["ingested"]) == 10


def test_changed_source_replaces_its_chunks_and_leaves_others(index: KnowledgeIndex) -> None:
    index.ingest_chunks(
        "a", [chunk(1, "one"), chunk(2, "two")], fingerprint="f1", version="1", licence="x"
    )
    index.ingest_chunks("b", [chunk(9, "nine", "other")], fingerprint="g", version="1", licence="x")
    assert not index.needs_ingest("a", "f1") and index.needs_ingest("a", "f2")
    res = index.ingest_chunks("a", [chunk(3, "three")], fingerprint="f2", version="2", licence="x")
    assert res.status == "replaced"
    ids, _, _ = index.all_documents(PASSAGES)
    assert sorted(ids) == ["fixture:3", "other:9"]
    assert index.manifest()["a"]["version"] == "2" and index.manifest()["a"]["chunks"] == 1


def test_replacing_a_source_updates_surviving_ids_in_place(index: KnowledgeIndex) -> None:
    def with_names(i: int, text: str, *names: str) -> Chunk:
        return dataclasses.replace(chunk(i, text), aliases=names)

    index.ingest_chunks(
        "a",
        [with_names(1, "one", "uno", "eins"), with_names(2, "two", "dos")],
        fingerprint="f1",
        version="1",
        licence="x",
    )
    index.ingest_chunks(
        "a", [with_names(1, "one, revised", "uno")], fingerprint="f2", version="2", licence="x"
    )
    got = index.get(PASSAGES, ["fixture:1", "fixture:2"])
    assert list(got) == ["fixture:1"] and got["fixture:1"][0] == "one, revised"
    names = index.collection(aliases_of(PASSAGES)).get(include=["documents", "metadatas"])
    assert names["ids"] == ["fixture:1~0"]
    # alias rows keep no text and only the metadata filters and re-ingests read
    assert names["documents"] == [None]
    assert names["metadatas"] == [{"source": "fixture", "type": "definition", "source_key": "a"}]
    assert index.dense_aliases(PASSAGES, index.embedder.embed(["uno"])[0], 5)[0][0] == "fixture:1"


def test_reingesting_unchanged_documents_is_a_noop(index: KnowledgeIndex, tmp_path: Path) -> None:
    doc = tmp_path / "note.md"
    doc.write_text("# Effusion\nFluid around the lung.\n")
    first = ing.ingest(index, [str(doc)])
    again = ing.ingest(index, [str(doc)])
    assert first[0].status == "added" and again[0].status == "unchanged"
    doc.write_text("# Effusion\nFluid in the pleural space.\n")
    changed = ing.ingest(index, [str(tmp_path)])
    assert changed[0].status == "replaced"
    _, docs, _ = index.all_documents(PASSAGES)
    assert docs == ["Effusion. Fluid in the pleural space."]


@pytest.mark.parametrize("bad", ["empty.md", "corrupt.pdf", "big.txt"])
def test_bad_file_in_a_batch_leaves_the_index_as_it_was(
    index: KnowledgeIndex, tmp_path: Path, bad: str
) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Asthma\nWheeze and cough.\n")
    ing.ingest(index, [str(good)])
    before = index.all_documents(PASSAGES), index.manifest()
    good.write_text("# Asthma\nChanged text that must not be ingested.\n")
    path = tmp_path / bad
    if bad == "empty.md":
        path.write_bytes(b"")
    elif bad == "corrupt.pdf":
        path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> broken")
    else:
        with path.open("wb") as fh:
            fh.seek(50 * 1024 * 1024)
            fh.write(b"x")
    with pytest.raises(DocumentError):
        ing.ingest(index, [str(good), str(path)])
    assert (index.all_documents(PASSAGES), index.manifest()) == before


def test_unknown_source_name_is_a_user_error(index: KnowledgeIndex) -> None:
    with pytest.raises(UserError, match="unknown knowledge source"):
        ing.ingest(index, ["pubmed"])


def test_persistent_index_survives_reopening(tmp_path: Path) -> None:
    emb = HashingEmbedder(64)
    first = KnowledgeIndex.persistent(tmp_path / "kb", emb)
    first.ingest_chunks(
        "a", [chunk(1, "syncope fainting")], fingerprint="f", version="1", licence="x"
    )
    del first
    again = KnowledgeIndex.persistent(tmp_path / "kb", emb)
    assert again.count(PASSAGES) == 1 and not again.needs_ingest("a", "f")


def test_from_settings_uses_data_dir(settings) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex.from_settings(settings, HashingEmbedder(64))
    assert index.location == str(settings.data_dir / "kb")
    assert (settings.data_dir / "kb").is_dir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_http_client_against_a_real_chroma_server(tmp_path: Path) -> None:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("chroma run did not start")
                time.sleep(0.3)
        emb = HashingEmbedder(64)
        index = KnowledgeIndex.http(f"http://127.0.0.1:{port}", emb)
        index.ingest_chunks(
            "a",
            [
                dataclasses.replace(chunk(1, "pneumothorax air"), aliases=("collapsed lung",)),
                chunk(2, "effusion fluid"),
            ],
            fingerprint="f",
            version="1",
            licence="x",
        )
        second = KnowledgeIndex.http(f"127.0.0.1:{port}", emb)  # another instance, same server
        assert second.count(PASSAGES) == 2 and not second.needs_ingest("a", "f")
        # alias rows (no text, three metadata fields) are stored and searched on a server too
        assert second.count(aliases_of(PASSAGES)) == 1
        near = second.dense_aliases(
            PASSAGES, emb.embed(["collapsed lung"])[0], 1, {"source": "fixture"}
        )
        assert near[0][0] == "fixture:1"
        from knowledge.kb.query import QueryExpander
        from knowledge.kb.retrieval import Retriever

        hits = Retriever(second, expander=QueryExpander({})).search("pneumothorax", 1).hits
        assert hits[0].id == "fixture:1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class _FakeSource:
    licence = "CC0"

    def __init__(self, name: str) -> None:
        self.name = name
        self.text = f"{name} passage about pleural effusion"

    def version(self) -> str:
        return "1"

    def fingerprint(self) -> str:
        return "fp-" + self.text

    def chunks(self):  # type: ignore[no-untyped-def]
        yield chunk(1, self.text, self.name)


def test_cli_default_ingest_is_a_fast_noop_once_built(settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from knowledge.kb import cli

    sources = {n: _FakeSource(n) for n in ("hpo", "icd10cm")}
    monkeypatch.setattr(ing, "DEFAULT_SOURCES", ("hpo", "icd10cm"))
    monkeypatch.setattr(ing, "get_source", lambda name: sources[name])
    cli.ingest(settings, [])
    assert "added" in capsys.readouterr().out
    real = KnowledgeIndex.from_settings

    def must_not_open(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("an up-to-date default corpus must not open the index")

    monkeypatch.setattr(KnowledgeIndex, "from_settings", must_not_open)
    cli.ingest(settings, [])
    assert "up to date" in capsys.readouterr().out
    sources["hpo"].text = "hpo changed passage"  # a changed source is re-ingested
    monkeypatch.setattr(KnowledgeIndex, "from_settings", real)
    cli.ingest(settings, [])
    out = capsys.readouterr().out
    assert "hpo\treplaced" in out and "icd10cm\tunchanged" in out
    cli.stats(settings)
    assert "source\thpo\t1 chunks" in capsys.readouterr().out


def test_given_vectors_are_stored_row_for_row(index: KnowledgeIndex) -> None:
    """``embeddings`` / ``alias_embeddings`` (the benchmark's synthetic chunks) skip the
    embedder: each row's vector is the one given, in chunk (and alias) order."""
    import numpy as np

    rows = [dataclasses.replace(chunk(i, f"passage {i}"), aliases=(f"name {i}",)) for i in range(3)]
    vecs = np.eye(3, 64, dtype=np.float32)
    alias_vecs = np.eye(3, 64, k=10, dtype=np.float32)
    index.ingest_chunks("a", rows, fingerprint="f", version="1", licence="x", embeddings=vecs,
                        alias_embeddings=alias_vecs)  # fmt: skip
    for i in range(3):
        ((pid, sim, text, _),) = index.dense(PASSAGES, vecs[i], 1)
        assert (pid, text) == (f"fixture:{i}", f"passage {i}") and sim == pytest.approx(1.0)
        ((alias_pid, alias_sim),) = index.dense_aliases(PASSAGES, alias_vecs[i], 1)
        assert alias_pid == f"fixture:{i}" and alias_sim == pytest.approx(1.0)
