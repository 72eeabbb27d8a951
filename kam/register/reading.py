"""The inbox read two files at a time, results in inbox order.

Each file is taken in (read, typed, validated, sorted) while the others are: by worker
processes where fork exists (kam.register.intake_workers: the typing and validation run on
both cores while the merge reads the old register), elsewhere by a thread per file. Either
way a file's own readers are isolated children (kam.io.isolate: memory, CPU and time
limits), a slow file (one that runs into its time limit, a large one) does not hold up the
files after it, and the merge sees every file's intake in the inbox order, as if read one
by one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Container, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from kam.io.isolate import FORKS
from kam.register.intake import Intake, IntakeSettings, take_in
from kam.register.intake_workers import Workers

APART = FORKS  # files taken in by forked worker processes


def fresh_files(
    files: Sequence[tuple[Path, str]], shas: Sequence[str], known: Container[str]
) -> list[tuple[Path, str, str]]:
    """(path, sha, name) of the files to read: the first copy of each content not `known`
    (the register's stored hashes); later copies and known contents are not read again."""
    seen: set[str] = set()
    fresh = []
    for (path, name), sha in zip(files, shas, strict=True):
        if sha not in seen and sha not in known:
            fresh.append((path, sha, name))
        seen.add(sha)
    return fresh


@contextlib.contextmanager
def read_ahead(
    files: Sequence[tuple[Path, str, str]], settings: IntakeSettings, at_once: int
) -> Iterator[Iterator[Intake]]:
    """take_in() of each (path, sha, name), in order, with up to `at_once` files being read
    at the same time (1: one after the other, in this thread), sharing settings.limits'
    reading children. Leaving the block early cancels the files not started yet."""
    if at_once <= 1 or len(files) <= 1:
        yield (take_in(path, sha, settings, name) for path, sha, name in files)
        return
    # The files share the reading children a single file would have (one per core): more
    # would only compete for the cores.
    limits = settings.limits
    share = dataclasses.replace(limits, workers=max(1, limits.workers // at_once))
    settings = dataclasses.replace(settings, limits=share)
    if not APART:
        with _in_threads(files, settings, at_once) as reads:
            yield reads
        return
    workers = Workers(files, settings, at_once)
    try:
        yield workers.in_order()
    finally:
        # Also on an error (Ctrl-C included): the files still being read are not waited for.
        workers.stop()


@contextlib.contextmanager
def _in_threads(
    files: Sequence[tuple[Path, str, str]], settings: IntakeSettings, at_once: int
) -> Iterator[Iterator[Intake]]:
    """Where fork is missing: a thread per file, whose readers are isolated children."""
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="kam-read")
    futures = [pool.submit(take_in, path, sha, settings, name) for path, sha, name in files]
    done = False
    try:
        yield _results(futures)
        done = True
    finally:
        # On an error, do not wait for the files still being read: each ends by its own
        # time limit, and its thread only reads.
        pool.shutdown(wait=done, cancel_futures=True)


def _results(futures: list[Future[Intake]]) -> Iterator[Intake]:
    for future in futures:
        yield future.result()
