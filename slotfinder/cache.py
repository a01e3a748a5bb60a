"""The busy-time cache: what a provider said about an id over a stretch, and when.

An application answers many "find a time" requests for the same people; each provider's rate
limit is per app, so reading a calendar again seconds later wastes the minute's budget. The
cache keeps, per provider scope (provider and app) and id, *pieces*: busy rows over a covered
stretch, stamped with when they were read. A piece older than the provider's freshness limit
is never used. A query asks which stretches of its window no fresh piece covers and fetches
only those; what a piece covers is exactly what was read, so "unknown is never free" holds
across the cache. A failure is kept at most briefly, as a reason, never as free time.

Three backends share one small protocol: :class:`MemoryCache` (the library's default, one
process), :class:`SqliteCache` (the command line's, across runs; standard library) and
``slotfinder.shared.RedisCache`` (many workers and hosts).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder import intervals
from slotfinder.errors import SlotfinderError
from slotfinder.model import Span

__all__ = [
    "DEFAULT_FAILURE_TTL",
    "DEFAULT_TTL",
    "BusyCache",
    "CacheError",
    "Failure",
    "MemoryCache",
    "Piece",
    "SqliteCache",
    "default_path",
    "missing",
]

DEFAULT_TTL = 300.0
"""Seconds a piece stays fresh unless the provider's ``cache_ttl`` says otherwise."""
DEFAULT_FAILURE_TTL = 30.0
"""Seconds a failure's reason is kept, so a burst of requests does not hammer a broken id."""

Rows = npt.NDArray[np.int64]
"""``(n, 3)`` rows of ``start, end, status code``."""


class CacheError(SlotfinderError):
    """The cache's store cannot be used (a file that is not a cache, Redis unreachable)."""


@attrs.frozen(eq=False)
class Piece:
    """Busy rows of one id over the stretch ``[start, end)``, read at ``read_at`` (epoch s)."""

    start: int
    end: int
    read_at: float
    rows: Rows

    def to_json(self) -> str:
        return json.dumps([self.start, self.end, self.read_at, self.rows.ravel().tolist()])

    @classmethod
    def from_json(cls, text: str | bytes) -> Piece:
        start, end, read_at, flat = json.loads(text)
        rows = np.asarray(flat, dtype=np.int64).reshape(-1, 3)
        return cls(start=int(start), end=int(end), read_at=float(read_at), rows=rows)


@attrs.frozen
class Failure:
    """Why an id could not be read, kept until ``until`` (epoch seconds)."""

    reason: str
    until: float


def missing(pieces: Sequence[Piece], window: Span) -> list[Span]:
    """The stretches of ``window`` that no piece covers, in order."""
    if not pieces:
        return [window] if window.seconds else []
    covered = intervals.normalize([p.start for p in pieces], [p.end for p in pieces])
    gaps = intervals.complement(covered, window.start, window.end)
    return [Span(int(s), int(e)) for s, e in zip(*gaps, strict=True)]


@runtime_checkable
class BusyCache(Protocol):
    """Where pieces and failures live. ``scope`` names a provider and app (``feishu:…``)."""

    async def pieces(self, scope: str, ids: Sequence[str], ttl: float) -> dict[str, list[Piece]]:
        """Each id's pieces read less than ``ttl`` seconds ago (ids without any are left out)."""
        ...

    async def add(self, scope: str, pieces: Mapping[str, Piece], ttl: float) -> None:
        """Keep one new piece per id, for ``ttl`` seconds."""
        ...

    async def failures(self, scope: str, ids: Sequence[str]) -> dict[str, Failure]:
        """The failures still kept for these ids."""
        ...

    async def fail(self, scope: str, reasons: Mapping[str, str], ttl: float) -> None:
        """Keep why these ids could not be read, for ``ttl`` seconds."""
        ...

    async def invalidate(self, scope: str | None = None, id: str | None = None) -> None:
        """Forget one id (in every scope when ``scope`` is ``None``), a scope, or everything."""
        ...

    async def close(self) -> None:
        """Release what the backend holds (connections, files)."""
        ...


@attrs.define
class MemoryCache:
    """Pieces in this process's memory: the default, shared by every ``suggest`` in it."""

    _pieces: dict[tuple[str, str], list[Piece]] = attrs.field(factory=dict)
    _failures: dict[tuple[str, str], Failure] = attrs.field(factory=dict)

    async def pieces(self, scope: str, ids: Sequence[str], ttl: float) -> dict[str, list[Piece]]:
        oldest = time.time() - ttl
        out: dict[str, list[Piece]] = {}
        for i in ids:
            kept = [p for p in self._pieces.get((scope, i), ()) if p.read_at > oldest]
            if kept:
                self._pieces[(scope, i)] = kept
                out[i] = kept
            else:
                self._pieces.pop((scope, i), None)
        return out

    async def add(self, scope: str, pieces: Mapping[str, Piece], ttl: float) -> None:
        for i, piece in pieces.items():
            self._pieces.setdefault((scope, i), []).append(piece)

    async def failures(self, scope: str, ids: Sequence[str]) -> dict[str, Failure]:
        now = time.time()
        out: dict[str, Failure] = {}
        for i in ids:
            failure = self._failures.get((scope, i))
            if failure is not None and failure.until > now:
                out[i] = failure
        return out

    async def fail(self, scope: str, reasons: Mapping[str, str], ttl: float) -> None:
        until = time.time() + ttl
        for i, reason in reasons.items():
            self._failures[(scope, i)] = Failure(reason, until)

    async def invalidate(self, scope: str | None = None, id: str | None = None) -> None:
        for table in (self._pieces, self._failures):
            for key in [k for k in table if _matches(k, scope, id)]:
                del table[key]

    async def close(self) -> None:
        return None


def _matches(key: tuple[str, str], scope: str | None, id: str | None) -> bool:
    return (scope is None or key[0] == scope) and (id is None or key[1] == id)


def default_path() -> Path:
    """``$XDG_CACHE_HOME/slotfinder/busy.sqlite`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slotfinder" / "busy.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS pieces (
    scope TEXT NOT NULL, id TEXT NOT NULL, start INTEGER NOT NULL, end_ INTEGER NOT NULL,
    read_at REAL NOT NULL, rows BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS pieces_by_id ON pieces (scope, id);
CREATE TABLE IF NOT EXISTS failures (
    scope TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (scope, id));
"""


class SqliteCache:
    """Pieces in a SQLite file, so successive command-line runs share what they read.

    Calls are short local queries, made on the event loop. Stale rows are deleted as they are
    met; the file is created with its folder, readable by its owner only.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self.path.chmod(0o600)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cache file {self.path}: cannot be used ({exc})") from None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqliteCache({str(self.path)!r})"

    def _run(self, sql: str, args: Sequence[object] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise CacheError(f"cache file {self.path}: {exc}") from None

    async def pieces(self, scope: str, ids: Sequence[str], ttl: float) -> dict[str, list[Piece]]:
        oldest = time.time() - ttl
        out: dict[str, list[Piece]] = {}
        async with self._lock:
            self._run("DELETE FROM pieces WHERE read_at <= ?", [oldest])
            for i in ids:
                found = self._run(
                    "SELECT start, end_, read_at, rows FROM pieces WHERE scope = ? AND id = ?",
                    [scope, i],
                )
                if found:
                    out[i] = [
                        Piece(s, e, r, np.frombuffer(b, "<i8").reshape(-1, 3).astype(np.int64))
                        for s, e, r, b in found
                    ]
        return out

    async def add(self, scope: str, pieces: Mapping[str, Piece], ttl: float) -> None:
        async with self._lock:
            for i, p in pieces.items():
                self._run(
                    "INSERT INTO pieces VALUES (?, ?, ?, ?, ?, ?)",
                    [scope, i, p.start, p.end, p.read_at, p.rows.astype("<i8").tobytes()],
                )

    async def failures(self, scope: str, ids: Sequence[str]) -> dict[str, Failure]:
        now = time.time()
        out: dict[str, Failure] = {}
        async with self._lock:
            for i in ids:
                for reason, until in self._run(
                    "SELECT reason, until FROM failures WHERE scope = ? AND id = ? AND until > ?",
                    [scope, i, now],
                ):
                    out[i] = Failure(reason, until)
        return out

    async def fail(self, scope: str, reasons: Mapping[str, str], ttl: float) -> None:
        until = time.time() + ttl
        async with self._lock:
            for i, reason in reasons.items():
                self._run(
                    "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?)", [scope, i, reason, until]
                )

    async def invalidate(self, scope: str | None = None, id: str | None = None) -> None:
        # A NULL parameter matches every row, as None does in MemoryCache.
        clause = "WHERE (?1 IS NULL OR scope = ?1) AND (?2 IS NULL OR id = ?2)"
        async with self._lock:
            for table in ("pieces", "failures"):
                self._run(f"DELETE FROM {table} {clause}", [scope, id])

    async def close(self) -> None:
        self._db.close()
