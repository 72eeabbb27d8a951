"""Inbox files taken in by worker processes (kam.register.intake_workers): a worker that
dies rejects only its file, the others go on, and nothing outlives a killed merge."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from test_register_reading import inbox_of
from test_register_safety import TODAY

from kam.errors import LockHeldError
from kam.register import MergeSettings, merge
from kam.register import reading as reading_module
from kam.register.intake import take_in
from kam.register.safety import register_lock

pytestmark = pytest.mark.skipif(not reading_module.APART, reason="workers need fork (Linux)")
FORK = mp.get_context("fork")


def _dies_on(names: set[str]) -> Any:
    def take(path: Path, sha: str, settings: Any, name: str) -> Any:
        if name in names:  # the worker crashes as a native parser might
            os.kill(os.getpid(), signal.SIGSEGV)
        return take_in(path, sha, settings, name)

    return take


@pytest.mark.parametrize("dying", [{"c.xlsx"}, {"a.xlsx", "c.xlsx"}])
def test_a_dead_worker_rejects_its_file_and_the_others_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dying: set[str]
) -> None:
    """{a, c}: both first workers die (a and c are taken first: b is known unreadable
    quickly, so a worker may take c before a dies); a new one reads what is left."""
    inbox = inbox_of(tmp_path / "in")
    alone = merge(MergeSettings(tmp_path / "r1" / "名录.xlsx", inbox, today=TODAY,
                                files_at_once=1))  # fmt: skip
    monkeypatch.setattr(reading_module, "take_in", _dies_on(dying))
    two = merge(MergeSettings(tmp_path / "r2" / "名录.xlsx", inbox, today=TODAY))
    assert [o.file for o in two.files] == [o.file for o in alone.files]
    for got, want in zip(two.files, alone.files, strict=True):
        if got.file in dying:
            assert got.status == "rejected"
            assert "读取时解析程序异常终止（信号 11）" in got.reason
        elif got.file != "f.xlsx" or "a.xlsx" not in dying:  # f is a's copy
            assert got.to_json() == want.to_json()


def _merge_stalled(settings: MergeSettings, started: Any, temp: str | None = None) -> None:
    if temp is not None:  # this merge's (and its children's) temporary files go there
        tempfile.tempdir = temp
    reading = importlib.import_module("kam.register.reading")

    def stall(path: Path, sha: str, s: Any, name: str) -> Any:
        started.set()
        time.sleep(120)
        return take_in(path, sha, s, name)

    reading.take_in = stall  # type: ignore[assignment]
    merge(settings)


def _descendants(pid: int) -> set[int]:
    """Living (not zombie) processes below pid, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_merge_leaves_no_worker_no_lock_and_no_temporary_file(tmp_path: Path) -> None:
    settings = MergeSettings(tmp_path / "reg" / "名录.xlsx", inbox_of(tmp_path / "in"),
                             today=TODAY)  # fmt: skip
    temp = tmp_path / "tmp"
    temp.mkdir()
    started = FORK.Event()
    child = FORK.Process(target=_merge_stalled, args=(settings, started, str(temp)))
    child.start()
    try:
        assert started.wait(60)
        below = _descendants(child.pid or 0)
        assert below  # the workers (and their readers) run
        os.kill(child.pid or 0, signal.SIGKILL)
    finally:
        child.join()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in below)
    # A worker forked just after `below` was listed dies with its parent all the same, a
    # moment later: the lock is free within seconds (not after a file's time limit).
    deadline = time.monotonic() + 5
    while True:
        try:
            with register_lock(settings.register):
                break
        except LockHeldError:
            assert time.monotonic() < deadline, "an orphan still holds the register's lock"
            time.sleep(0.05)
    assert list(temp.iterdir()) == []  # the readers' crash logs have no names to leave
