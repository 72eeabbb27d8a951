"""The register's row XML written by two forked processes, biggest sheets first.

Turning rows into XML is most of writing a register and runs in Python: on a machine with
two cores, two processes write the sheets' row files side by side. The processes are
forked (they see the frames without copying them through a pipe) and send back only what
the parent needs: the row file's name, the cut cells and the fingerprints. Where fork does
not exist (Windows) or the sheets are small, the rows are written here, one sheet after
another; the files are the same either way.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from collections.abc import Callable
from typing import Any

from kam.io.isolate import FORKS
from kam.register.fingerprints import SheetPrints
from kam.register.sheet_rows import Job, RowWriter, SheetRows

PARALLEL_FROM = 50_000
"""Rows in all from which two processes write (below it, forking costs more than it saves)."""

_FORK = mp.get_context("fork") if FORKS else None
_INSTALLED: list[tuple[RowWriter, list[Job]]] = []  # a forked worker's jobs (its initializer)

Done = tuple[SheetRows, list[str], Counter[str], dict[str, str]]


def write_pending(rows: RowWriter, meanwhile: Callable[[], None] | None = None) -> None:
    """Write the row files of every sheet `rows` has put off, then write as it goes again;
    `meanwhile` runs here while the processes write (a core is free at the end of theirs)."""
    jobs, rows.pending = rows.pending or [], None
    if _FORK is None or len(jobs) < 2 or sum(len(j.frame) for j in jobs) < PARALLEL_FROM:
        for job in jobs:
            rows.add(job.sheet, job.index, job.frame, job.prints)
        if meanwhile is not None:
            meanwhile()
        return
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i].frame))
    with _FORK.Pool(2, initializer=_install, initargs=(rows, jobs)) as pool:
        written = pool.imap_unordered(_write, order)
        if meanwhile is not None:
            meanwhile()
        done = dict(written)
    for i, job in enumerate(jobs):  # in the order the sheets were added, as one process would
        sheet, notes, prints, computed = done[i]
        rows.sheets.append(sheet)
        rows.notes.extend(notes)
        if job.prints is not None:
            job.prints[0].rows.update(prints)
            job.prints[0].computed.update(computed)


def _install(rows: RowWriter, jobs: list[Job]) -> None:
    _INSTALLED[:] = [(rows, jobs)]


def _write(i: int) -> tuple[int, Done]:
    """In a forked worker: one sheet's row file, and what the parent records of it."""
    rows, jobs = _INSTALLED[0]
    job = jobs[i]
    mine = RowWriter(rows.styles, rows.folder, [])
    sink = SheetPrints()
    track: Any = (sink, job.prints[1], job.prints[2]) if job.prints is not None else None
    mine.add(job.sheet, job.index, job.frame, track)
    return i, (mine.sheets[0], mine.notes, sink.rows, sink.computed)
