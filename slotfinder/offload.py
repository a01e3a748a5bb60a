"""A helper process that runs pure jobs (parsing large replies) on another core.

Parsing a large reply is pure Python (``json.loads``, the provider's reader, the merge) and
holds the GIL: on the event loop, ten 220 KB replies landing within 40 ms queue behind each
other, and a worker thread only takes turns with the loop. A second process parses in
parallel, while the loop goes on reading replies and parsing the ones the helper has no room
for.

The helper is a plain ``python -c`` child of this interpreter talking over its stdin and stdout
in numbered, length-prefixed pickle frames, not :mod:`multiprocessing`: its ``spawn`` and
``forkserver`` start methods re-run the parent's ``__main__`` script in the child, which a
script without an ``if __name__ == "__main__"`` guard does not survive, and ``fork`` is unsafe
in a process that has threads and an event loop. The parent waits on the pipes through the
running event loop (``add_reader``/``add_writer``), so no thread competes for the GIL, and the
helper outlives any one loop (``asyncio.run`` per call is fine).

Jobs travel by reference (``module.function`` and pickled arguments) and are answered in
order. The helper is never waited for: it takes a job only once it has started (imported
slotfinder and the registered plugins) and while fewer than ``depth`` jobs are in it (two: one
running and the next already in the pipe, so it does not sit idle while the loop is busy
elsewhere). A job it cannot run (unpicklable, or the helper died) raises
:class:`OffloadFailed`, and the caller runs it itself. A cancelled job's answer is dropped when
it comes. Log records a job emits in the helper are handed to the parent's loggers, as if the
job had run here.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["ENV_SWITCH", "MAX_STARTS", "PIPE_SIZE", "Helper", "OffloadFailed"]

log = logging.getLogger("slotfinder.offload")

_HEADER = 16
"""Before each frame: its payload's length and its job number, 8 bytes each, little-endian."""
_READY = b"ready"
"""The helper's first frame (job number 0): it has imported what jobs need."""
_CHILD = "import sys; sys.path[:0] = {path!r}; from slotfinder.offload import _serve; _serve()"
PIPE_SIZE = 1 << 20
"""Bytes asked for the pipe that carries jobs (Linux's default ceiling for a user)."""
ENV_SWITCH = "SLOTFINDER_PARSE_HELPER"
"""Set to ``0`` to never start a helper process (every reply is parsed in-process)."""
MAX_STARTS = 3
"""Helper processes in a row that may die before they are ready; then the helper stays off
(a helper lost later is simply started again)."""


class OffloadFailed(Exception):
    """The helper could not run the job (not picklable, or the helper is gone): run it here."""


def _frame(number: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "little") + number.to_bytes(8, "little") + payload


def _split(buffer: bytearray) -> tuple[int, bytes] | None:
    """The first whole frame in ``buffer`` as ``(job number, payload)``, removed from it."""
    if len(buffer) < _HEADER:
        return None
    size = int.from_bytes(buffer[:8], "little")
    if len(buffer) < _HEADER + size:
        return None
    number = int.from_bytes(buffer[8:_HEADER], "little")
    payload = bytes(buffer[_HEADER : _HEADER + size])
    del buffer[: _HEADER + size]
    return number, payload


# --- the helper's side ------------------------------------------------------------------------


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _refusal(reason: str) -> bytes:
    """An answer that sends the job back to the parent, to be run there."""
    return pickle.dumps((False, OffloadFailed(reason), []), pickle.HIGHEST_PROTOCOL)


def _answer(payload: bytes, handler: _Records) -> bytes:
    """Run one job: the pickled ``(ok, value or exception, log records)``."""
    handler.records = []
    try:
        function, args = pickle.loads(payload)
    except Exception as exc:  # e.g. a module the helper cannot import: run it in the parent
        return _refusal(f"job not readable in the helper: {type(exc).__name__}")
    try:
        value: tuple[bool, Any] = (True, function(*args))
    except BaseException as exc:  # the parent decides what the failure means
        value = (False, exc)
    try:
        return pickle.dumps((*value, handler.records), pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable value or exception: the parent runs the job
        return _refusal(f"answer not picklable: {type(exc).__name__}")


def _serve() -> None:
    """The helper's loop: read a job, run it, answer under its number; stop at EOF."""
    # Ctrl-C at a terminal reaches the whole process group: the parent decides what it means,
    # and ends the helper by closing its stdin (or dies, which closes it too).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
    # Everything imported so far lives as long as the helper: keep it out of the collector's
    # view, or each full collection a large reply's objects trigger walks all of it again.
    gc.collect()
    gc.freeze()
    _write_all(out, _frame(0, _READY))
    while (header := _read_exactly(inp, _HEADER)) is not None:
        payload = _read_exactly(inp, int.from_bytes(header[:8], "little"))
        if payload is None:
            return
        _write_all(out, _frame(int.from_bytes(header[8:], "little"), _answer(payload, handler)))


# --- the parent's side ------------------------------------------------------------------------

_HELPERS: weakref.WeakSet[Helper] = weakref.WeakSet()
"""Every Helper, so a forked child can drop what it inherited (see ``_forget_after_fork``)."""


def _after_fork() -> None:
    for helper in list(_HELPERS):
        helper._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _settle(future: asyncio.Future[bytes], error: OffloadFailed) -> None:
    if not future.done():
        future.set_exception(error)


def _unwatch(loop: asyncio.AbstractEventLoop, process: subprocess.Popen[bytes]) -> None:
    """Stop ``loop`` watching the helper's pipes (a closed loop watches nothing any more)."""
    if not loop.is_closed():
        assert process.stdin is not None
        assert process.stdout is not None
        loop.remove_reader(process.stdout.fileno())
        loop.remove_writer(process.stdin.fileno())


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
    """One helper process, up to ``depth`` jobs in it at a time.

    ``start`` launches it without waiting; ``claim`` takes a place for one job when it is up
    and has room (never blocks); ``run`` ships the claimed job and awaits the answer on the
    running event loop. One event loop uses the helper at a time (another loop's ``claim``
    is refused while jobs are in it). ``close`` (also at interpreter exit) ends the process.
    """

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        _HELPERS.add(self)
        self._lock = threading.Lock()
        """Guards everything below: loops in several threads may share one helper."""
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._inbox = bytearray()
        """What the helper wrote that is not yet a whole frame."""
        self._outbox = bytearray()
        """Frames not yet taken by the pipe (the writer callback sends the rest)."""
        self._owed: dict[int, asyncio.Future[bytes]] = {}
        """Answers still to come, by job number (a cancelled job's future is done already)."""
        self._claims = 0
        """Places taken by :meth:`claim` and not yet given back by :meth:`run`."""
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the pipes are watched from while jobs are in the helper."""
        self._numbers = itertools.count(1)
        self._stillborn = 0
        """Helper processes in a row lost before they were ready."""
        self.starts = 0
        """Helper processes started."""
        self.jobs = 0
        """Jobs the helper answered (a test and the benchmark read it)."""

    def _forget_after_fork(self) -> None:
        """In a forked child: the helper process and its pipes belong to the parent (frames
        from two processes would interleave in one pipe). Drop them, unclosed, with a lock
        that may have been held at the fork; this process starts its own helper when needed."""
        self._lock = threading.Lock()
        self._process, self._ready, self._loop = None, False, None
        self._inbox, self._outbox = bytearray(), bytearray()
        self._owed, self._claims = {}, 0
        self._stillborn, self.starts, self.jobs = 0, 0, 0

    @property
    def usable(self) -> bool:
        """False once :data:`MAX_STARTS` helper processes in a row died while starting, on
        Windows (whose event loops cannot wait on pipes), and where the operator said so
        (``SLOTFINDER_PARSE_HELPER=0``: a sandbox that forbids child processes, say)."""
        return (
            self._stillborn < MAX_STARTS
            and sys.platform != "win32"
            and os.environ.get(ENV_SWITCH, "1").strip() != "0"
        )

    @property
    def pid(self) -> int | None:
        """The helper process's id while one runs (the benchmark reads its CPU time)."""
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        """Launch the helper process if none runs (about 0.5 ms here; the helper then spends
        about 0.4 s of the other core importing, and signals when it is ready)."""
        with self._lock:
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
            self._process, self._ready = process, False  # inbox and outbox are empty
            if self.starts == 1:
                atexit.register(self.close)

    def claim(self, limit: int | None = None) -> bool:
        """Take a place for one job if the helper is up and has fewer than ``limit`` jobs
        (default and at most ``depth``); never waits.

        Call it from the event loop that will :meth:`run` the job, which gives the place back.
        """
        loop = asyncio.get_running_loop()
        room = self.depth if limit is None else min(limit, self.depth)
        with self._lock:
            if self._process is None or self._claims >= room:
                return False
            if self._loop is not None and self._loop is not loop and not self._loop.is_closed():
                return False  # another loop has jobs in the helper
            if not self._ready and not self._check_ready():
                return False
            if self._loop is not loop:
                self._bind(loop)
            self._claims += 1
            return True

    def _check_ready(self) -> bool:
        """Has the helper said it is ready? (Under the lock, before it has taken any job.)"""
        try:
            alive = self._pump()
        except OSError:
            alive = False
        frame = _split(self._inbox)
        if frame == (0, _READY):
            self._ready = True
            self._stillborn = 0
            return True
        if not alive or frame is not None:
            self._stillborn += 1
            self._lose("the helper process stopped while starting")
        return False

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the pipes from ``loop`` (an earlier loop closed with answers still owed: those
        jobs were cancelled with it, and their answers are read and dropped here)."""
        assert self._process is not None
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._loop = loop
        loop.add_reader(self._process.stdout.fileno(), self._readable)
        if self._outbox:
            loop.add_writer(self._process.stdin.fileno(), self._writable)

    def _unbind(self) -> None:
        """Stop watching the pipes once nothing is owed or waiting to be written."""
        loop, process = self._loop, self._process
        if loop is None or self._claims or self._owed or self._outbox:
            return
        self._loop = None
        if process is not None:
            _unwatch(loop, process)

    def _pump(self) -> bool:
        """Read what the helper wrote; False when it has closed its end."""
        assert self._process is not None
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self._inbox += chunk

    def _readable(self) -> None:
        with self._lock:
            if self._process is None:
                return
            try:
                alive = self._pump()
            except OSError:
                alive = False
            while (frame := _split(self._inbox)) is not None:
                number, payload = frame
                future = self._owed.pop(number, None)
                # A job whose loop closed under it has nobody waiting: drop its answer.
                if future is not None and not future.done() and not future.get_loop().is_closed():
                    future.set_result(payload)
            if not alive:
                self._lose("the helper process stopped")
            else:
                self._unbind()

    def _flush(self) -> None:
        """Write what the pipe takes now; watch for room when some is left (under the lock)."""
        assert self._process is not None
        assert self._process.stdin is not None
        fd = self._process.stdin.fileno()
        try:
            while self._outbox:
                sent = os.write(fd, self._outbox)
                del self._outbox[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._lose("the helper process stopped")
            return
        if self._loop is not None and not self._loop.is_closed():
            if self._outbox:
                self._loop.add_writer(fd, self._writable)
            else:
                self._loop.remove_writer(fd)

    def _writable(self) -> None:
        with self._lock:
            if self._process is not None:
                self._flush()
                self._unbind()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the helper (after :meth:`claim`); its exception re-raised.

        Raises :class:`OffloadFailed` when the job cannot be shipped or answered. Cancelled,
        the job still runs in the helper, and its answer is dropped.
        """
        loop = asyncio.get_running_loop()
        try:
            try:
                job = pickle.dumps((function, args), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                raise OffloadFailed(f"job not picklable: {type(exc).__name__}") from None
            answer: asyncio.Future[bytes] = loop.create_future()
            with self._lock:
                if self._process is None:
                    raise OffloadFailed("the helper process stopped")
                number = next(self._numbers)
                self._owed[number] = answer
                self._outbox += _frame(number, job)
                self._flush()
            payload = await answer
        finally:
            with self._lock:
                self._claims -= 1
                self._unbind()
        try:
            ok, value, records = pickle.loads(payload)
        except Exception as exc:  # e.g. an exception class that cannot be rebuilt here
            raise OffloadFailed(f"answer not readable: {type(exc).__name__}") from None
        self.jobs += 1
        for name, level, message in records:
            logger = logging.getLogger(name)
            if logger.isEnabledFor(level):
                logger.log(level, "%s", message)
        if ok:
            return value
        raise value

    def _lose(self, reason: str) -> None:
        """Drop the helper process (under the lock): every answer still owed fails."""
        log.debug("parse helper lost: %s", reason)
        self._fail_owed(reason)
        self._stop(kill=True)

    def _fail_owed(self, reason: str) -> None:
        """Fail every answer still owed, each on its own loop (close may run in any thread)."""
        owed, self._owed = self._owed, {}
        for future in owed.values():
            loop = future.get_loop()
            if not future.done() and not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future, OffloadFailed(reason))

    def _stop(self, *, kill: bool) -> None:
        process, loop = self._process, self._loop
        self._process, self._ready, self._loop = None, False, None
        self._inbox.clear()
        self._outbox.clear()
        if process is None:
            return
        if loop is not None:
            _unwatch(loop, process)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if kill:
            process.kill()
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

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
            with self._lock:
                if self._process is not None and (self._ready or self._check_ready()):
                    return True
            await asyncio.sleep(0.01)
        return False

    def close(self) -> None:
        """End the helper process: a ready one exits when its stdin closes, one still
        importing is killed (an exiting program should not wait for it). Answers still owed
        fail with :class:`OffloadFailed`."""
        with self._lock:
            self._fail_owed("the helper was closed")
            self._stop(kill=not self._ready)
