"""A small cache of parsed files keyed by (path, modification time, size).

Reading the same calendar for many requests (or for several attendees sharing one busy file)
parses it once; touching the file invalidates the entry. Failures are cached too, so a broken
file is not re-parsed for every attendee that points at it.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["FileCache", "resolve"]


def resolve(text: str) -> Path:
    """The path an id names: ``~`` expanded, relative to the current directory."""
    return Path(os.path.expanduser(text)).absolute()


class FileCache(Generic[T]):
    """``get(path)`` returns ``parse(path)``, re-parsed only when the file changed.

    An :class:`OSError` from ``os.stat`` (missing file, no permission) propagates uncached.
    Exceptions raised by ``parse`` are cached with the file's identity and raised again.
    """

    def __init__(self, parse: Callable[[Path], T], size: int = 64) -> None:
        self._parse = parse
        self._size = size
        self._entries: OrderedDict[tuple[str, int, int], T | Exception] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> T:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
        if hit is None:
            try:
                hit = self._parse(path)
            except Exception as exc:  # cached and re-raised: the caller reports it
                hit = exc
            with self._lock:
                for old in [k for k in self._entries if k[0] == key[0]]:
                    del self._entries[old]  # an older version of the same file
                self._entries[key] = hit
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        if isinstance(hit, Exception):
            raise hit
        return hit

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
