"""A helper process that runs pure jobs (parsing large replies) on another core.

Parsing a large reply is pure Python (``json.loads``, the provider's reader, the merge) and
holds the GIL: on the event loop, ten 220 KB replies landing within 40 ms queue behind each
other, and a worker thread only takes turns with the loop. A second process parses in
parallel, while the loop goes on reading replies and parsing the ones the helper has no room
for.

The helper is a plain ``python -c`` child of this interpreter talking over its stdin and stdout
in length-prefixed pickle frames, not :mod:`multiprocessing`: its ``spawn`` and ``forkserver``
start methods re-run the parent's ``__main__`` script in the child, which a script without an
``if __name__ == "__main__"`` guard does not survive, and ``fork`` is unsafe in a process that
has threads and an event loop. The parent waits on the pipes through the running event loop
(``add_reader``/``add_writer``), so no thread competes for the GIL and the helper outlives any
one loop (``asyncio.run`` per call is fine).

Jobs travel by reference (``module.function`` and pickled arguments). The helper is never
waited for: it counts as free only once it has started (imported slotfinder and the registered
plugins) and has no job, and a job it cannot run (unpicklable, the helper died or was
cancelled mid-job) raises :class:`OffloadFailed` so the caller runs it itself. Log records a
job emits in the helper are handed to the parent's loggers, as if the job had run here.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Helper", "OffloadFailed"]

log = logging.getLogger("slotfinder.offload")

_HEADER = 8
"""Bytes of the little-endian length before each frame."""
_READY = b"ready"
_CHILD = "import sys; sys.path[:0] = {path!r}; from slotfinder.offload import _serve; _serve()"
PIPE_SIZE = 1 << 20
"""Bytes asked for the pipe that carries jobs (Linux's default ceiling for a user)."""
MAX_STARTS = 3
"""Helper processes in a row that may die before they are ready; then the helper stays off
(a helper lost later, e.g. to a cancelled job, is simply started again)."""


class OffloadFailed(Exception):
    """The helper could not run the job (not picklable, or the helper is gone): run it here."""


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(_HEADER, "little") + payload


class _Records(logging.Handler):
    """Collects a job's log records in the helper, for the parent's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve() -> None:
    """The helper's loop: read a job, run it, answer ``(ok, value, records)``; stop at EOF."""
    inp = sys.stdin.fileno()
    out = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt a frame
    sys.stdout = sys.stderr
    from slotfinder import fetch, plugins  # noqa: F401  (imported before the first job)

    try:
        plugins.get_providers()
    except Exception as exc:  # a broken plugin only costs its import at its first job
        print(f"slotfinder helper: plugins not preloaded ({type(exc).__name__})", file=sys.stderr)
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    os.write(out, _frame(_READY))
    while (header := _read_exactly(inp, _HEADER)) is not None:
        payload = _read_exactly(inp, int.from_bytes(header, "little"))
        if payload is None:
            return
        handler.records = []
        try:
            function, args = pickle.loads(payload)
            value: tuple[bool, Any] = (True, function(*args))
        except BaseException as exc:  # the parent decides what the failure means
            value = (False, exc)
        try:
            answer = pickle.dumps((*value, handler.records), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable value or exception: the parent runs the job
            failed = OffloadFailed(f"answer not picklable: {type(exc).__name__}")
            answer = pickle.dumps((False, failed, []), pickle.HIGHEST_PROTOCOL)
        data = memoryview(_frame(answer))
        while data:
            data = data[os.write(out, data) :]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _widen(fd: int) -> None:
    """Let the pipe hold a whole large job (Linux), so a job is written in one go instead of
    64 KB at a time, each part waiting for the event loop to come round again."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsize is None:
        return
    for size in (PIPE_SIZE, 256 * 1024):
        try:
            fcntl.fcntl(fd, setsize, size)
            return
        except OSError:
            continue


class Helper:
    """One helper process, one job at a time.

    ``start`` launches it without waiting; ``claim`` takes it for a job when it is up and
    idle (never blocks); ``run`` ships the claimed job and awaits the answer on the running
    event loop. ``close`` (also at interpreter exit) ends the process.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._busy = threading.Lock()
        """Held for a job, from :meth:`claim` to the end of :meth:`run` (loops in several
        threads may share one helper)."""
        self._starting = threading.Lock()
        self._buffer = bytearray()
        self.starts = 0
        """Helper processes started."""
        self._stillborn = 0
        """Helper processes in a row lost before they were ready."""
        self.jobs = 0
        """Jobs the helper answered (a test and the benchmark read it)."""

    @property
    def usable(self) -> bool:
        """False once :data:`MAX_STARTS` helper processes in a row died while starting, and
        on Windows (whose event loops cannot wait on pipes)."""
        return self._stillborn < MAX_STARTS and sys.platform != "win32"

    @property
    def pid(self) -> int | None:
        """The helper process's id while one runs (the benchmark reads its CPU time)."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Launch the helper process if none runs (about 0.5 ms here; the helper then spends
        about 0.4 s of the other core importing, and signals when it is ready)."""
        with self._starting:
            if self._process is not None or not self.usable:
                return
            self.starts += 1
            try:
                process = subprocess.Popen(
                    [sys.executable, "-c", _CHILD.format(path=sys.path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            except OSError as exc:
                self._stillborn += 1
                log.debug("parse helper not started: %s", type(exc).__name__)
                return
            assert process.stdin is not None
            assert process.stdout is not None
            _widen(process.stdin.fileno())
            os.set_blocking(process.stdin.fileno(), False)
            os.set_blocking(process.stdout.fileno(), False)
            self._process, self._ready = process, False
            self._buffer.clear()
            if self.starts == 1:
                atexit.register(self.close)

    def _pump(self) -> bool:
        """Read what the helper wrote; False when it has closed its end."""
        assert self._process is not None
        assert self._process.stdout is not None
        while True:
            try:
                chunk = os.read(self._process.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self._buffer += chunk

    def _next_frame(self) -> bytes | None:
        if len(self._buffer) < _HEADER:
            return None
        size = int.from_bytes(self._buffer[:_HEADER], "little")
        if len(self._buffer) < _HEADER + size:
            return None
        payload = bytes(self._buffer[_HEADER : _HEADER + size])
        del self._buffer[: _HEADER + size]
        return payload

    def claim(self) -> bool:
        """Take the helper for one job if it is up and idle; never waits.

        After a successful claim the caller must :meth:`run` a job (which releases it).
        """
        if self._process is None or not self._busy.acquire(blocking=False):
            return False
        if self._ready:
            return True
        try:
            alive = self._pump()
            if self._next_frame() == _READY:
                self._ready = True
                self._stillborn = 0
                return True
            if not alive:
                self._stillborn += 1
                self._lose("the helper process stopped while starting")
        except OSError:
            self._stillborn += 1
            self._lose("the helper process cannot be read")
        self._busy.release()
        return False

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the helper (after :meth:`claim`); its exception re-raised.

        Raises :class:`OffloadFailed` when the job cannot be shipped or answered; when the
        wait is cancelled the helper is stopped, since its pipe is then mid-frame.
        """
        process = self._process
        try:
            if process is None:
                raise OffloadFailed("the helper process stopped")
            try:
                job = _frame(pickle.dumps((function, args), pickle.HIGHEST_PROTOCOL))
            except Exception as exc:
                raise OffloadFailed(f"job not picklable: {type(exc).__name__}") from None
            try:
                await self._write(process, job)
                answer = await self._answer()
            except BaseException:
                self._lose("the helper's job was interrupted")
                raise
            try:
                ok, value, records = pickle.loads(answer)
            except Exception as exc:  # e.g. an exception class that cannot be rebuilt here
                raise OffloadFailed(f"answer not readable: {type(exc).__name__}") from None
        finally:
            self._busy.release()
        self.jobs += 1
        for name, level, message in records:
            logger = logging.getLogger(name)
            if logger.isEnabledFor(level):
                logger.log(level, "%s", message)
        if ok:
            return value
        raise value

    async def _write(self, process: subprocess.Popen[bytes], data: bytes) -> None:
        assert process.stdin is not None
        fd = process.stdin.fileno()
        view = memoryview(data)
        loop = asyncio.get_running_loop()
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except BlockingIOError:
                pass
            except OSError:
                raise OffloadFailed("the helper process stopped") from None
            writable = loop.create_future()
            loop.add_writer(fd, _wake, writable)
            try:
                await writable
            finally:
                loop.remove_writer(fd)

    async def _answer(self) -> bytes:
        assert self._process is not None
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        loop = asyncio.get_running_loop()
        while True:
            alive = self._pump()
            frame = self._next_frame()
            if frame is not None:
                return frame
            if not alive:
                raise OffloadFailed("the helper process stopped")
            readable = loop.create_future()
            loop.add_reader(fd, _wake, readable)
            try:
                await readable
            finally:
                loop.remove_reader(fd)

    def _lose(self, reason: str) -> None:
        """Drop a helper whose pipe is mid-frame or closed: it holds nothing worth waiting for."""
        log.debug("parse helper lost: %s", reason)
        if self._process is not None:
            self._process.kill()
        self.close()

    async def ready(self, timeout: float = 30.0) -> bool:
        """Start the helper and wait until it can take a job: a long-lived application's
        warm-up, like opening its connection pool. A helper that dies while starting is
        started again, up to :data:`MAX_STARTS` in all. False if none came up in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self.start()
            if not self.usable:
                return False
            if self.claim():
                self._busy.release()
                return True
            await asyncio.sleep(0.01)
        return False

    def close(self) -> None:
        """End the helper process: a ready one exits when its stdin closes, one still
        importing is killed (an exiting program should not wait for it)."""
        process, ready = self._process, self._ready
        self._process, self._ready = None, False
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if not ready:
            process.kill()
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
