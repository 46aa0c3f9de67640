"""The compiled lexicon's on-disk cache: an SQLite file read lazily, one lookup at a time.

A cold ``clinassist ner`` reads one report, whose few hundred tokens touch a few hundred of the
lexicon's ~220,000 keys; loading every key (the former JSON cache) took ~0.5 s of its start-up.
Here the tables stay in an SQLite file and each lookup is one indexed query (answers are
memoised); a process that makes many lookups (a batch, an evaluation, a long-lived server)
loads the whole table into memory after :data:`PROMOTE_AFTER` lookups, so it matches at
in-memory speed from then on.

SQLite, not pickle or marshal: reading the file never runs code and a damaged file is a clean
``sqlite3.DatabaseError``. It still decides what the NER finds, so :mod:`knowledge.nlp.lexicon`
reads it only from a folder and file that nobody but this user can write.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

CACHE_FORMAT = 3
"""Version of the cache layout (bumped whenever :func:`write` changes)."""
KEY_SEP = "\x00"
"""Joins a token tuple into one SQLite key (a token holding it makes the lexicon uncacheable)."""
PROMOTE_AFTER = 20_000
"""Lookups in one table after which the whole table is loaded into memory."""
TABLES = ("lower", "exact", "lower_lengths", "exact_lengths")
_MISSING = object()


def _join(key: tuple[str, ...]) -> str:
    return KEY_SEP.join(key)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(raw.split(KEY_SEP))


def _token(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError("a first-token key is a string")
    return key


def _lengths_out(raw: str) -> tuple[int, ...]:
    return tuple(int(x) for x in raw.split(","))


class _Db:
    """One read-only connection, shared by the lazy tables (queries under a lock: the pipeline
    may run in worker threads)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        self.lock = threading.Lock()

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0] if len(row) == 1 else row

    def all(self, sql: str) -> list[Any]:
        with self.lock:
            return self.conn.execute(sql).fetchall()


class LazyTable(Mapping[Any, Any]):
    """A read-only mapping over one ``(k TEXT PRIMARY KEY, v)`` table, memoised per key and
    loaded whole after :data:`PROMOTE_AFTER` lookups (or when iterated)."""

    def __init__(
        self,
        db: _Db,
        table: str,
        size: int,
        key_in: Callable[[Any], str],
        key_out: Callable[[str], Any],
        value_out: Callable[[Any], Any],
    ) -> None:
        self._db, self._table, self._size = db, table, size
        self._key_in, self._key_out, self._value_out = key_in, key_out, value_out
        self._memo: dict[Any, Any] = {}
        self._complete = False
        self._lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        found = self._memo.get(key, _MISSING)
        if found is not _MISSING:
            return default if found is None else found
        if self._complete:
            return default
        self._lookups += 1
        if self._lookups > PROMOTE_AFTER:
            self._load_all()
            return self._memo.get(key, default)
        try:
            raw = self._db.one(f"SELECT v FROM {self._table} WHERE k = ?", (self._key_in(key),))
        except (TypeError, AttributeError):  # not a key this table can hold
            return default
        value = None if raw is None else self._value_out(raw)
        self._memo[key] = value
        return default if value is None else value

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        self._load_all()
        return iter(self._memo)

    def _load_all(self) -> None:
        if self._complete:
            return
        rows = self._db.all(f"SELECT k, v FROM {self._table}")
        self._memo = {self._key_out(k): self._value_out(v) for k, v in rows}
        self._complete = True


class LazyConcepts(Sequence[Any]):
    """The concept list, one row per id, built on first use."""

    def __init__(self, db: _Db, size: int, make: Callable[..., Any]) -> None:
        self._db, self._size, self._make = db, size, make
        self._memo: dict[int, Any] = {}
        self._all: list[Any] | None = None

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice) or self._all is not None:
            return self._list()[index]
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(index)
        found = self._memo.get(index)
        if found is None:
            row = self._db.one(
                "SELECT label, normalized, code, source FROM concepts WHERE id = ?", (index,)
            )
            if row is None:
                raise IndexError(index)
            found = self._memo[index] = self._make(*row)
        return found

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _list(self) -> list[Any]:
        if self._all is None:
            rows = self._db.all("SELECT label, normalized, code, source FROM concepts ORDER BY id")
            self._all = [self._make(*row) for row in rows]
        return self._all


def write(
    path: Path,
    key: str,
    stats: dict[str, int],
    concepts: Sequence[Any],
    tables: dict[str, Mapping[Any, Any]],
) -> None:
    """Write the cache atomically (a temporary file in the same folder, then a rename), mode
    0600. ``tables`` maps each of :data:`TABLES` to its dict; ValueError when a token holds
    :data:`KEY_SEP`."""
    for name in ("lower", "exact"):
        if any(KEY_SEP in tok for k in tables[name] for tok in k):
            raise ValueError("a token holds the cache's key separator")
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # mode 0600
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        with conn:
            conn.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
            conn.execute(
                "CREATE TABLE concepts (id INTEGER PRIMARY KEY, label TEXT NOT NULL,"
                " normalized TEXT NOT NULL, code TEXT, source TEXT NOT NULL)"
            )
            conn.executemany(
                "INSERT INTO concepts VALUES (?, ?, ?, ?, ?)",
                ((i, c.label, c.normalized, c.code, c.source) for i, c in enumerate(concepts)),
            )
            for name in ("lower", "exact"):
                conn.execute(
                    f"CREATE TABLE {name} (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID"
                )
                conn.executemany(
                    f"INSERT INTO {name} VALUES (?, ?)",
                    ((_join(k), v) for k, v in tables[name].items()),
                )
            for name in ("lower_lengths", "exact_lengths"):
                conn.execute(
                    f"CREATE TABLE {name} (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID"
                )
                conn.executemany(
                    f"INSERT INTO {name} VALUES (?, ?)",
                    ((k, ",".join(map(str, v))) for k, v in tables[name].items()),
                )
            sizes = {name: len(tables[name]) for name in TABLES}
            meta = {
                "format": str(CACHE_FORMAT),
                "key": key,
                "stats": json.dumps(stats),
                "sizes": json.dumps({**sizes, "concepts": len(concepts)}),
            }
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path, key: str) -> tuple[dict[str, int], LazyConcepts, dict[str, LazyTable]] | None:
    """``(stats, concepts, tables)`` from a current cache file, or None when it is missing,
    damaged, of another format or for another key. Checks that every concept id is in range
    (one indexed scan), so a damaged table is found here rather than in the middle of a report."""
    from knowledge.nlp.lexicon import Concept

    db: _Db | None = None
    try:
        db = _Db(path)
        meta = dict(db.all("SELECT k, v FROM meta"))
        if meta.get("format") != str(CACHE_FORMAT) or meta.get("key") != key:
            raise ValueError("another format or key")
        sizes = {str(k): int(v) for k, v in json.loads(meta["sizes"]).items()}
        stats = {str(k): int(v) for k, v in json.loads(meta["stats"]).items()}
        n = sizes["concepts"]
        ids = db.one("SELECT COUNT(*), max(id) FROM concepts")
        if tuple(ids) != (n, n - 1 if n else None):
            raise ValueError("missing concepts")
        checks = [
            f"SELECT 1 FROM {name} WHERE typeof(v) != 'integer' OR v < 0 OR v >= ? LIMIT 1"
            for name in ("lower", "exact")
        ]
        if any(db.one(sql, (n,)) is not None for sql in checks):
            raise ValueError("a concept id out of range")
        tables = {
            "lower": LazyTable(db, "lower", sizes["lower"], _join, _split, int),
            "exact": LazyTable(db, "exact", sizes["exact"], _join, _split, int),
            "lower_lengths": LazyTable(
                db, "lower_lengths", sizes["lower_lengths"], _token, str, _lengths_out
            ),
            "exact_lengths": LazyTable(
                db, "exact_lengths", sizes["exact_lengths"], _token, str, _lengths_out
            ),
        }
        return stats, LazyConcepts(db, n, Concept), tables
    except (sqlite3.Error, ValueError, KeyError, TypeError, AttributeError):
        if db is not None:
            db.conn.close()
        return None
