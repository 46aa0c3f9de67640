"""The compiled-lexicon cache: JSON (loading it runs no code), read only from a private
folder, rebuilt when damaged, and equal to what it caches."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import spacy

from knowledge.nlp import lexicon as lx

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


def test_a_planted_pickle_in_the_cache_is_never_loaded(cache: Path, tmp_path: Path) -> None:
    key = lx.lexicon_key(SOURCES)
    marker = tmp_path / "code-ran"
    (cache / f"lexicon-{key}.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert not marker.exists()
    assert ("pleural", "effusion") in lex.lower


def test_the_cache_round_trips_exactly(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.json")
    assert json.loads(path.read_text())["format"] == lx.CACHE_FORMAT
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setattr(lx, "compile_lexicon", _no_compile)
    second = lx.load_or_compile(TOK, SOURCES, cache)
    assert second == first


def _no_compile(*_a: object, **_k: object) -> None:
    raise AssertionError("compiled although a trusted cache exists")


def _tampered(cache: Path) -> Path:
    """A current cache file whose 'pleural effusion' now means something else."""
    lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.json")
    data = json.loads(path.read_text())
    data["concepts"] = [[c[0], "TAMPERED", c[2], c[3]] for c in data["concepts"]]
    path.write_text(json.dumps(data))
    os.chmod(path, 0o600)
    return path


def test_a_cache_in_a_folder_others_can_write_is_ignored(cache: Path) -> None:
    path = _tampered(cache)
    cache.chmod(0o777)
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert "TAMPERED" not in {c.normalized for c in lex.concepts}
    assert "TAMPERED" in path.read_text()  # and nothing was written there either


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


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 1}', b'{"format": 99}', b"[]"])
def test_a_damaged_cache_is_rebuilt(cache: Path, damage: bytes) -> None:
    lx.load_or_compile(TOK, SOURCES, cache)
    (path,) = cache.glob("lexicon-*.json")
    path.write_bytes(damage)
    lex = lx.load_or_compile(TOK, SOURCES, cache)
    assert ("pleural", "effusion") in lex.lower
    assert json.loads(path.read_text())["format"] == lx.CACHE_FORMAT


def test_a_token_holding_the_key_separator_is_not_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    concept = lx.Concept("FINDING", "odd", None, "radiology")
    odd = lx.CompiledLexicon([concept], {("a\x00b",): 0}, {}, {"a\x00b": (1,)}, {}, "k")
    monkeypatch.setattr(lx, "compile_lexicon", lambda *a, **k: odd)
    assert lx.load_or_compile(TOK, SOURCES, cache) is odd
    assert not list(cache.glob("lexicon-*.json"))
