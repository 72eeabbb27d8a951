"""Run one function in a child process with memory, CPU and wall-clock limits.

Native parsers (calamine is Rust) can crash, abort on a failed allocation or spin on a
hostile file. Running them in a child keeps the caller alive: whatever happens there comes
back as an UnreadableFileError with a reason the user can act on.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import IO, TYPE_CHECKING, Any

from kam.errors import UnreadableFileError

if TYPE_CHECKING:
    from kam.io.files import ReadLimits

_OOM_MARKERS = (b"memory allocation of", b"MemoryError", b"Cannot allocate memory", b"bad_alloc")

# fork is cheap and needs no pickling of the function; elsewhere fork is unsafe or missing.
FORKS = sys.platform.startswith("linux")
_CONTEXT = mp.get_context("fork" if FORKS else "spawn")
_STARTING = threading.Lock()


def _fresh_lock() -> None:
    """A forked child's own lock: it was forked while its parent's thread held this one
    (Isolated forks under it), and it may start isolated children of its own."""
    global _STARTING
    _STARTING = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock)

_SAVE_AS = "请在 Excel 中打开并另存为 .xlsx 后再提交"
_SAVE_AS_EN = "open it in Excel, save it as .xlsx and resubmit"
TIMEOUT = (
    "读取超时（超过 {seconds:g} 秒），文件可能过大或结构异常；请删除无关内容后另存为 .xlsx 再提交",
    "Reading timed out (over {seconds:g} s): the file is too large or malformed; "
    "remove unrelated content, save it as .xlsx and resubmit",
)
MEMORY = (
    "读取时内存不足（文件过大或结构异常）；请删除无关内容后另存为 .xlsx 再提交",
    "Ran out of memory while reading (the file is too large or malformed); "
    "remove unrelated content, save it as .xlsx and resubmit",
)
# The signal's number stays in the Chinese text (support can look it up); its name, an
# English word, only in the English one.
KILLED = (
    f"读取时解析程序异常终止（信号 {{number}}），文件可能已损坏；{_SAVE_AS}",
    f"The parser died while reading (signal {{number}}, {{name}}); the file may be damaged: "
    f"{_SAVE_AS_EN}",
)
EXITED = (
    f"读取时解析程序异常退出（退出码 {{code}}），文件可能已损坏；{_SAVE_AS}",
    f"The parser quit while reading (exit code {{code}}); the file may be damaged: {_SAVE_AS_EN}",
)
FAILED = (
    f"读取时出错，文件可能已损坏；{_SAVE_AS}",  # the library's own words: English text only
    f"Reading failed ({{error}}); the file may be damaged: {_SAVE_AS_EN}",
)


class Isolated:
    """One call of func(*args) in a child process; func returns an iterator, and each item
    is sent back as soon as it is made (read them with gather())."""

    def __init__(
        self,
        func: Callable[..., Iterable[Any]],
        args: tuple[Any, ...],
        limits: ReadLimits,
        file: str = "",
        daemon: bool = True,
    ) -> None:
        """daemon=False lets the child start isolated children of its own (a file's intake
        in kam.register.reading starts its readers); it is killed by cancel() all the same."""
        self.file = file
        self._timeout = limits.timeout_s
        # The child's stderr goes to a file: a native crash prints there, not at the user.
        # A forked child inherits the descriptor of a file without a name, so nothing is
        # left in the temp folder even when the merge is killed; a spawned child opens a
        # named one.
        self._log_file: IO[bytes] | None = None
        self._log = ""
        if FORKS:
            self._log_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by cancel())
            log: str | int = self._log_file.fileno()
        else:
            handle, self._log = tempfile.mkstemp(prefix="kam-read-", suffix=".log")
            os.close(handle)
            log = self._log
        self._closed = False
        # One child made at a time (files are read two at a time, from two threads): a child
        # forked while another's pipes are being set up would hold their ends open.
        with _STARTING:
            self._conn, child_conn = _CONTEXT.Pipe(duplex=False)
            self._proc = _CONTEXT.Process(
                target=_child_main,
                args=(child_conn, func, args, limits, log),
                daemon=daemon,
            )
            self._deadline = time.monotonic() + limits.timeout_s
            try:
                self._proc.start()
            except BaseException:
                child_conn.close()
                self._conn.close()
                self._drop_log()
                raise
            # Close our copy of the write end so a dead child reads as EOF, not as a hang.
            child_conn.close()

    def kill(self) -> None:
        """Stop the child now from any thread; its reader sees it die (no resources freed)."""
        with contextlib.suppress(ValueError, OSError):
            self._proc.kill()

    def cancel(self) -> None:
        """Kill the child if it still runs and release its resources (safe to repeat)."""
        if self._closed:
            return
        self._closed = True
        if self._proc.is_alive():
            self._proc.kill()
        self._reap()
        self._proc.close()
        self._conn.close()
        self._drop_log()

    def _drop_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
        with contextlib.suppress(OSError):
            if self._log:
                os.unlink(self._log)

    def _message(self) -> tuple[Any, ...]:
        """The child's next message; waits until the deadline, raises if it died or hung."""
        remaining = max(0.0, self._deadline - time.monotonic())
        if not wait([self._conn, self._proc.sentinel], timeout=remaining):
            self._proc.kill()
            raise self._error(TIMEOUT, seconds=self._timeout)
        if self._conn.poll():  # what it sent before it exited is still read first
            with contextlib.suppress(EOFError, OSError):
                return self._conn.recv()  # type: ignore[no-any-return]
        raise self._died(self._reap())

    def _reap(self) -> int | None:
        """Wait for the child to end; its exit code."""
        self._proc.join()
        # Another thread's Process.start() polls every child and may reap ours first: our
        # join then returns before that thread has stored the exit code. Wait for it.
        for _ in range(5000):  # a few seconds at most
            if self._proc.exitcode is not None:
                break
            time.sleep(0.001)
            self._proc.join(0)
        return self._proc.exitcode

    def _failure(self, kind: str, payload: list[Any]) -> UnreadableFileError:
        if kind == "unreadable":
            return UnreadableFileError(self.file, payload[0], payload[1])
        if kind == "memory":
            return self._error(MEMORY)
        return self._error(FAILED, error=payload[0] if payload else kind)

    def _died(self, exitcode: int | None) -> UnreadableFileError:
        if exitcode is not None and exitcode < 0:
            sig = -exitcode
            if sig == getattr(signal, "SIGXCPU", None):
                return self._error(TIMEOUT, seconds=self._timeout)
            if sig == getattr(signal, "SIGKILL", None) or self._out_of_memory():
                # SIGKILL is not ours (we kill only on timeout): the kernel's OOM killer.
                return self._error(MEMORY)
            return self._error(KILLED, number=sig, name=_signal_name(sig))
        return self._error(EXITED, code=exitcode)

    def _out_of_memory(self) -> bool:
        """Whether the child's last words were a failed allocation (Rust aborts on those)."""
        try:
            with contextlib.ExitStack() as stack:
                fh = self._log_file or stack.enter_context(open(self._log, "rb"))
                fh.seek(0)
                words = fh.read(4096)  # Rust prints its message first, then a backtrace
                fh.seek(max(fh.tell(), os.fstat(fh.fileno()).st_size - 4096))
                words += fh.read()
        except (OSError, ValueError):  # (ValueError: already closed)
            return False
        return any(marker in words for marker in _OOM_MARKERS)

    def _error(self, texts: tuple[str, str], **params: Any) -> UnreadableFileError:
        return UnreadableFileError(self.file, texts[0].format(**params), texts[1].format(**params))


def shared_counter() -> Any:
    """An integer the children of Isolated jobs made after it can all read and add to."""
    return _CONTEXT.Value("i", 0)


def shared_integers(count: int, value: int) -> Any:
    """Integers (no lock of their own) the children of Isolated jobs made after it share."""
    return _CONTEXT.Array("i", [value] * count, lock=False)


def gather(jobs: list[Isolated]) -> Iterator[Any]:
    """Items of streaming jobs in the order they arrive, from whichever child is first.

    A child that fails raises its UnreadableFileError here; the caller cancels the others.
    """
    live = list(jobs)
    while live:
        ends = {job._conn: job for job in live} | {job._proc.sentinel: job for job in live}
        first = min(live, key=lambda job: job._deadline)
        ready = wait(list(ends), timeout=max(0.0, first._deadline - time.monotonic()))
        for job in {ends[r] for r in ready} if ready else {first}:
            kind, *payload = job._message()  # ready (or past its deadline): does not block
            if kind == "item":
                yield payload[0]
            elif kind == "done":
                live.remove(job)
                job.cancel()
            else:
                raise job._failure(kind, payload)


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _child_main(
    conn: Connection,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    limits: ReadLimits,
    log: str | int,
) -> None:
    """Child side: set limits, call, send back one tagged message per item, then "done"."""
    _die_with_parent()
    if isinstance(log, int):  # the parent's nameless file, inherited
        os.dup2(log, 2)
    else:
        handle = os.open(log, os.O_WRONLY | os.O_TRUNC)
        os.dup2(handle, 2)
        os.close(handle)
    if faulthandler.is_enabled():  # inherited (pytest, -X faulthandler): dump to the log too
        faulthandler.enable(file=2)
    _set_limits(limits.timeout_s, limits.memory_bytes)
    try:
        for item in func(*args):
            conn.send(("item", item))
        message: tuple[Any, ...] = ("done",)
    except UnreadableFileError as exc:
        # Exceptions are not sent pickled: UnreadableFileError's args do not round-trip.
        message = ("unreadable", exc.reason, exc.reason_en)
    except MemoryError:
        message = ("memory",)
    except Exception as exc:
        message = ("error", f"{type(exc).__name__}: {str(exc)[:300]}")
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory",))
    conn.close()


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when the merge dies (kill -9 included), so no
    orphan keeps reading, or keeps the register's lock file open, after it."""
    if not FORKS:  # (PR_SET_PDEATHSIG is Linux's; spawned children are not ours to reap)
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the call
        os._exit(1)


def _set_limits(timeout_s: float, memory_bytes: int) -> None:
    """POSIX rlimits for this (child) process; no-op where the resource module is missing."""
    try:
        import resource
    except ImportError:  # Windows: the parent's wall-clock timeout still applies
        return
    cpu = int(timeout_s) + 1
    _lower(resource, resource.RLIMIT_CPU, cpu, cpu + 2)
    # A forked child inherits the parent's mappings: the budget is on top of those.
    limit = _address_space() + memory_bytes
    _lower(resource, resource.RLIMIT_AS, limit, limit)


def _lower(resource: Any, which: int, soft: int, hard: int) -> None:
    _, old_hard = resource.getrlimit(which)
    if old_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, old_hard), min(hard, old_hard)
    # Some systems (macOS) refuse an RLIMIT_AS below current use: run without it then.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, hard))


def _address_space() -> int:
    """Bytes of virtual memory this process maps now (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
