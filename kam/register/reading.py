"""The inbox read two files at a time, results in inbox order.

Each file is read by its own isolated child processes (kam.io.isolate: memory, CPU and time
limits); a thread per file starts them, waits on them and types what they send. So a slow
file (one that runs into its time limit, a large one) no longer holds up the files after
it, and the merge sees every file's intake in the inbox order, as if read one by one.
Forking from a thread is safe here: children made by kam.io.isolate run only the reader,
and isolate makes one child at a time (so no child inherits another's pipe ends).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Container, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from kam.register.intake import Intake, IntakeSettings, take_in


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
