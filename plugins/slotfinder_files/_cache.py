"""Which local files the file providers may read, and a cache of what they parsed.

The ids a provider gets may come from people other than the one running slotfinder (an
application passing its users' ids), so reading a file is a policy, not a given:

* only under the configured ``roots`` (``[providers.ics] roots``, or ``SLOTFINDER_ICS_ROOTS``:
  a list or an ``os.pathsep``-separated string); with no roots configured, nothing is read
  (the command line configures its working directory and its config file's folder).
  Symlinks are followed, and what they resolve to must lie under a root as well;
* only regular files: no devices, FIFOs, sockets or folders, and nothing under ``/proc`` or
  ``/sys`` whatever the roots say;
* at most ``max_bytes`` bytes (default 20 MiB).

The file is opened once and checked on that open descriptor, so it cannot be swapped between
the check and the read. Refusals and failures are :class:`InputError` whose problem names the
file and what was expected, never the file's content.

Parsed files are cached by (real path, modification time, size, inode): touching the file
invalidates the entry. Failures are cached too, so a broken file is not re-parsed for every
attendee that points at it.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from slotfinder.errors import InputError
from slotfinder.providers import ConfigKey, ProviderConfig

T = TypeVar("T")

__all__ = ["CONFIG_KEYS", "MAX_BYTES", "Access", "FileCache"]

MAX_BYTES = 20 * 2**20
_FORBIDDEN = (Path("/proc"), Path("/sys"))
CONFIG_KEYS = (
    ConfigKey(
        "roots",
        "folders files may be read from (a list, or separated by os.pathsep); "
        "none set: nothing is read (the command line sets its working directory)",
    ),
    ConfigKey("max_bytes", "largest file read, in bytes", default=MAX_BYTES),
)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@attrs.frozen
class Access:
    """Where a provider may read: ``roots`` (``None``: anywhere) and ``max_bytes``."""

    roots: tuple[Path, ...] | None
    max_bytes: int = MAX_BYTES

    @classmethod
    def from_config(cls, config: ProviderConfig, provider: str) -> Access:
        """The policy a provider's settings give; no ``roots`` reads nothing."""
        raw: object = config.get("roots")
        if raw is None or raw == "":
            env = f"SLOTFINDER_{provider.upper()}_ROOTS"
            raise InputError(
                f"providers.{provider}.roots",
                None,
                f"no folders to read from: set [providers.{provider}] roots or {env}",
            )
        if isinstance(raw, str):
            names: list[str] = [r for r in raw.split(os.pathsep) if r]
        elif isinstance(raw, list | tuple) and all(isinstance(r, str) for r in raw):
            names = [str(r) for r in raw]
        else:
            raise InputError(f"providers.{provider}.roots", raw, "expected folder names")
        limit = config.get("max_bytes", MAX_BYTES)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError(f"providers.{provider}.max_bytes", limit, "expected a whole number")
        roots = tuple(Path(os.path.realpath(os.path.expanduser(r))) for r in names)
        return cls(roots=roots, max_bytes=limit)

    def open(self, text: str) -> tuple[Path, int]:
        """The real path ``text`` names and a read-only descriptor on it, once allowed.

        Raises :class:`InputError` (field ``path``) saying why a file is refused.
        """
        try:
            real = Path(os.path.realpath(os.path.expanduser(text)))
        except (OSError, ValueError):
            raise InputError("path", text, "not a usable path") from None
        if any(_under(real, f) for f in _FORBIDDEN):
            raise InputError("path", text, "under /proc or /sys, which are never read")
        if self.roots is not None and not any(_under(real, r) for r in self.roots):
            raise InputError(
                "path", text, "outside the folders this provider may read (its roots setting)"
            )
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the real
            # path was checked, so a symlink put there since is refused.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise InputError("path", text, f"cannot read: {exc.strerror or 'error'}") from None
        except ValueError:
            raise InputError("path", text, "not a usable path") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise InputError("path", text, "not a regular file (a folder, device or FIFO)")
            if st.st_size > self.max_bytes:
                raise InputError(
                    "path", text, f"larger than max_bytes ({st.st_size} > {self.max_bytes} bytes)"
                )
        except BaseException:
            os.close(fd)
            raise
        return real, fd

    def read(self, fd: int, text: str) -> bytes:
        """At most ``max_bytes`` bytes from ``fd`` (a file that grew is cut, then refused)."""
        chunks = []
        left = self.max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise InputError("path", text, f"larger than max_bytes ({self.max_bytes} bytes)")
        return b"".join(chunks)


class FileCache(Generic[T]):
    """``get(text, access)`` returns ``parse(bytes)``, re-parsed only when the file changed.

    Refusals and read errors propagate uncached; exceptions raised by ``parse`` are cached
    with the file's identity and raised again.
    """

    def __init__(self, parse: Callable[[bytes], T], size: int = 64) -> None:
        self._parse = parse
        self._size = size
        self._entries: OrderedDict[tuple[str, int, int, int], T | Exception] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, access: Access) -> T:
        real, fd = access.open(text)
        try:
            st = os.fstat(fd)
            key = (str(real), st.st_mtime_ns, st.st_size, st.st_ino)
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
            if hit is None:
                try:
                    data = access.read(fd, text)
                except OSError as exc:
                    raise InputError(
                        "path", text, f"cannot read: {exc.strerror or 'error'}"
                    ) from None
                try:
                    hit = self._parse(data)
                except Exception as exc:  # cached and re-raised: the caller reports it
                    hit = exc
                del data
                with self._lock:
                    for old in [k for k in self._entries if k[0] == key[0]]:
                        del self._entries[old]  # an older version of the same file
                    self._entries[key] = hit
                    while len(self._entries) > self._size:
                        self._entries.popitem(last=False)
        finally:
            os.close(fd)
        if isinstance(hit, Exception):
            raise hit
        return hit
