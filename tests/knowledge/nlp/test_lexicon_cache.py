"""The compiled-lexicon cache: SQLite (reading it runs no code), read only from a private
folder, rebuilt when damaged, read lazily, and equal to what it caches."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.nlp import lexicon as lx
from knowledge.nlp import lexicon_cache as lc

TOK = spacy.blank("en").tokenizer
SOURCES = ("radiology",)


class _Planted:
    """A pickle that, when loaded, creates a file: what anyone able to write the cache folder
    could have done to a pickled cache."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "nlp"
    folder.mkdir(mode=0o700)
    return folder


def _meta(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT k, v FROM meta").fetchall())


def test_a_planted_pickle_in_the_cache_is_never_loaded(cache: Path, tmp_path: Path) -> None:
    key = lx.lexicon_key(SOURCES)
    marker = tmp_path / "code-ran"
    for suffix in ("pkl", "sqlite"):
        (cache / f"lexicon-{key}.{suffix}").write_bytes(pickle.dumps(_Planted(marker)))
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert not marker.exists()
    assert ("pleural", "effusion") in lex.lower


def test_the_cache_round_trips_exactly(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.sqlite")
    assert _meta(path)["format"] == str(lc.CACHE_FORMAT)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setattr(lx, "compile_lexicon", _no_compile)
    second = lx.load_or_compile(TOK, SOURCES, cache)
    assert isinstance(second.lower, lc.LazyTable)  # read lazily, not loaded whole
    assert second == first


def test_lazy_lookups_answer_as_the_compiled_dicts(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key by key (memoised, misses included), then past the promotion threshold (loaded
    whole): the same answers as the in-memory lexicon."""
    first = lx.load_or_compile(TOK, SOURCES, cache)
    monkeypatch.setattr(lc, "PROMOTE_AFTER", 50)
    lazy = lx.load_or_compile(TOK, SOURCES, cache)
    keys = [*list(first.lower)[:40], ("no", "such", "term"), ("pleural",), (), 3]
    for _ in range(2):  # the second pass is answered from the memo
        for key in keys:
            assert lazy.lower.get(key) == first.lower.get(key)  # type: ignore[call-overload]
            assert (key in lazy.lower) == (key in first.lower)
    for word in [*list(first.lower_lengths)[:30], "zzz", "PE"]:
        assert lazy.lower_lengths.get(word) == first.lower_lengths.get(word)
        assert lazy.exact_lengths.get(word) == first.exact_lengths.get(word)
    assert lazy.lower_lengths.get(3) is None  # type: ignore[call-overload]
    for key in list(first.exact):
        assert lazy.exact[key] == first.exact[key]
    with pytest.raises(KeyError):
        lazy.lower[("no", "such", "term")]
    assert [lazy.concepts[i] for i in range(len(first.concepts))] == list(first.concepts)
    assert lazy.concepts[-1] == first.concepts[-1]
    with pytest.raises(IndexError):
        lazy.concepts[len(first.concepts)]
    assert len(lazy.lower) == len(first.lower) and len(lazy) == len(first)
    assert dict(lazy.lower.items()) == dict(first.lower)  # iterating loads the table whole


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[lx.CompiledLexicon, ...]:
    """The compiled lexicon and the same read lazily from its cache."""
    folder = tmp_path_factory.mktemp("lexicon") / "nlp"
    folder.mkdir(mode=0o700)
    return lx.load_or_compile(TOK, SOURCES, folder), lx.load_or_compile(TOK, SOURCES, folder)


@settings(max_examples=60, deadline=None)
@given(tokens=st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_any_token_tuple_is_answered_like_the_dict(
    pair: tuple[lx.CompiledLexicon, ...], tokens: list[str]
) -> None:
    compiled, lazy = pair
    assert isinstance(lazy.lower, lc.LazyTable)
    key = tuple(tokens)
    assert lazy.lower.get(key) == compiled.lower.get(key)
    assert lazy.lower_lengths.get(tokens[0]) == compiled.lower_lengths.get(tokens[0])


def _no_compile(*_a: object, **_k: object) -> None:
    raise AssertionError("compiled although a trusted cache exists")


def _tampered(cache: Path) -> Path:
    """A current cache file whose 'pleural effusion' now means something else."""
    lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE concepts SET normalized = 'TAMPERED'")
    conn.close()
    os.chmod(path, 0o600)
    return path


def _normalized(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT normalized FROM concepts")}


def test_a_cache_in_a_folder_others_can_write_is_ignored(cache: Path) -> None:
    path = _tampered(cache)
    cache.chmod(0o777)
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert "TAMPERED" not in {c.normalized for c in lex.concepts}
    assert _normalized(path) == {"TAMPERED"}  # and nothing was written there either


def test_a_cache_file_others_can_write_is_ignored(cache: Path) -> None:
    path = _tampered(cache)
    path.chmod(0o666)
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert "TAMPERED" not in {c.normalized for c in lex.concepts}


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a file to another user")
def test_a_cache_file_owned_by_another_user_is_ignored(cache: Path) -> None:
    path = _tampered(cache)
    os.chown(path, 4242, -1)
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert "TAMPERED" not in {c.normalized for c in lex.concepts}


def _set_format(path: Path, value: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET v = ? WHERE k = 'format'", (value,))
    conn.close()


def _drop_concept(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM concepts WHERE id = 0")
    conn.close()


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b"{not sqlite"),
        lambda p: p.write_bytes(p.read_bytes()[:3000]),  # cut short
        lambda p: _set_format(p, "2"),
        lambda p: _set_format(p, "99"),
        _drop_concept,
    ],
    ids=["empty", "garbage", "truncated", "old-format", "new-format", "missing-concept"],
)
def test_a_damaged_cache_is_rebuilt(cache: Path, damage: object) -> None:
    first = lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.sqlite")
    damage(path)  # type: ignore[operator]
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert ("pleural", "effusion") in lex.lower
    assert _meta(path)["format"] == str(lc.CACHE_FORMAT)
    assert lx.load_or_compile(TOK, SOURCES, cache) == first


def test_a_concept_id_out_of_range_is_rebuilt(cache: Path) -> None:
    """The lower table is WITHOUT ROWID: damage one value through its key instead."""
    lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.sqlite")
    with sqlite3.connect(path) as conn:
        (k,) = conn.execute("SELECT k FROM lower LIMIT 1").fetchone()
        conn.execute("UPDATE lower SET v = 10000000 WHERE k = ?", (k,))
    conn.close()
    assert lc.read(path, lx.lexicon_key(SOURCES)) is None
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert max(lex.lower.values()) < len(lex.concepts)


def test_a_token_holding_the_key_separator_is_not_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    concept = lx.Concept("FINDING", "odd", None, "radiology")
    odd = lx.CompiledLexicon([concept], {("a\x00b",): 0}, {}, {"a\x00b": (1,)}, {}, "k")
    monkeypatch.setattr(lx, "compile_lexicon", lambda *a, **k: odd)
    assert lx.load_or_compile(TOK, SOURCES, cache) is odd
    assert not list(cache.glob("lexicon-*"))
