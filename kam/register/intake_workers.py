"""Inbox files taken in by worker processes: read, typed, validated and sorted off the GIL.

Threads would take turns on the GIL for the typing and validation while the merge reads the
old register; worker processes use both cores. The workers are forked when reading starts,
from the one thread that exists then: a child forked while another thread holds a lock (a
module being imported, say) would wait for that lock for ever. Each worker takes the next
file from a shared counter, takes it in (its own isolated readers keep their limits) and
sends back the Intake; a thread per worker receives them, and the merge gets them in inbox
order. A worker that dies (out of memory, or past its time limit) rejects the file it was
on with the reason; the files it never took go to the others, or to a new worker.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kam.errors import UnreadableFileError
from kam.io.isolate import Isolated, gather, shared_counter, shared_integers
from kam.register.intake import UNREADABLE, FileOutcome, Intake, IntakeSettings

JOB_TIME_FACTOR = 5
"""A file's whole intake may take this many times the reading time limit (at least
JOB_MIN_S): typing and validating a large file takes longer than parsing it, and the parse
keeps its own limit inside."""
JOB_MIN_S = 300.0

File = tuple[Path, str, str]  # (path, sha, name)
LOST = "读取进程异常终止；请重新合并，如仍出现请联系管理员"


@dataclasses.dataclass(frozen=True)
class FileQueue:
    """The inbox files' indexes, which the workers take one at a time."""

    count: int
    taken: Any  # a multiprocessing Value shared by the workers: the next index
    holding: Any  # a shared array: the index each worker slot took last (-1: none yet)

    @classmethod
    def new(cls, count: int, slots: int) -> FileQueue:
        return cls(count, shared_counter(), shared_integers(slots, -1))

    def take(self, slot: int) -> int | None:
        # Taken and recorded under one lock: a worker that dies at any moment after it
        # leaves its file known to the merge, which rejects that file.
        with self.taken.get_lock():
            i = self.taken.value
            self.taken.value = i + 1
            self.holding[slot] = i
        return i if i < self.count else None


class Workers:
    """Worker processes taking in `files`; in_order() gives each file's Intake in order."""

    def __init__(self, files: Sequence[File], settings: IntakeSettings, count: int) -> None:
        self._files = list(files)
        self._settings = settings
        limits = settings.limits
        job_s = max(JOB_MIN_S, limits.timeout_s * JOB_TIME_FACTOR) * len(self._files)
        # Its readers inherit its address-space limit: twice the budget leaves them theirs.
        job_bytes = limits.memory_bytes * 2
        self._limits = dataclasses.replace(limits, timeout_s=job_s, memory_bytes=job_bytes)
        slots = max(1, min(count, len(self._files)))
        self._queue = FileQueue.new(len(self._files), slots)
        self._results: dict[int, tuple[str, Any]] = {}  # received, not yet handed over
        self._received: set[int] = set()
        self._changed = threading.Condition()
        self._live: list[Isolated] = []
        self._threads: list[threading.Thread] = []
        self._stopped = False
        for slot in range(slots):
            self._start(slot)

    def in_order(self) -> Iterator[Intake]:
        """Each file's Intake in inbox order; what a file's intake raised is raised here."""
        for i in range(len(self._files)):
            with self._changed:
                while i not in self._results:
                    if not self._live and self._queue.taken.value > i:
                        # Taken, and its worker gone unrecorded: not expected (a death is
                        # recorded by its slot), but new workers would find nothing to take.
                        self._results[i] = "intake", self._rejected(i, LOST)
                    elif not self._live:  # every worker died with files left: a new one
                        self._start(0)
                    else:
                        self._changed.wait()
                kind, value = self._results.pop(i)
            if kind == "raised":
                raise value
            yield value

    def stop(self) -> None:
        """Kill the workers and wait for their threads (on an error, Ctrl-C included)."""
        with self._changed:
            self._stopped = True
            for job in self._live:
                job.kill()
        for thread in self._threads:
            thread.join()

    def _start(self, slot: int) -> None:
        args = (self._files, self._queue, slot, self._settings)
        job = Isolated(_work, args, self._limits, daemon=False)
        self._live.append(job)
        thread = threading.Thread(target=self._receive, args=(job, slot), name="kam-intake")
        self._threads.append(thread)
        thread.start()

    def _receive(self, job: Isolated, slot: int) -> None:
        """A worker's results as they come; when it dies, its file is rejected."""
        try:
            for i, kind, value in gather([job]):
                with self._changed:
                    self._results[i] = kind, value
                    self._received.add(i)
                    self._changed.notify_all()
        except UnreadableFileError as exc:  # the worker itself died
            with self._changed:
                i = self._queue.holding[slot]
                if 0 <= i < len(self._files) and i not in self._received and not self._stopped:
                    self._results[i] = "intake", self._rejected(i, exc.reason)
                    self._received.add(i)
        finally:
            job.cancel()
            with self._changed:
                self._live.remove(job)
                self._changed.notify_all()

    def _rejected(self, i: int, reason: str) -> Intake:
        _, sha, name = self._files[i]
        outcome = FileOutcome(file=name, sha256=sha)
        outcome.rejected_sheets = ("全部（文件无法读取）",)
        return Intake(outcome).reject_whole(f"{UNREADABLE}{reason}", "unreadable")


def _work(
    files: list[File], queue: FileQueue, slot: int, settings: IntakeSettings
) -> Iterator[Any]:
    """Worker side: take files until none is left; (index, kind, value) for each."""
    from kam.register import reading  # its take_in, which tests replace before the fork

    while (i := queue.take(slot)) is not None:
        path, sha, name = files[i]
        try:
            intake = reading.take_in(path, sha, settings, name)
        except Exception as exc:  # the merge raises it: its own handling (an OSError...)
            yield i, "raised", _sendable(exc)
            continue
        yield i, "intake", intake


def _sendable(exc: Exception) -> Exception:
    """exc with the worker's traceback as a note, or a RuntimeError with its text when it
    does not survive pickling (OSError does: the CLI still names the file)."""
    exc.add_note("".join(traceback.format_exception(exc)))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any pickling failure
        return RuntimeError("".join(traceback.format_exception(exc)))
    return exc
