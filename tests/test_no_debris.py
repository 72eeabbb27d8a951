"""No temporary debris: a write that fails at any point (an exception in the middle, a full
disk) leaves its folder as it was: the old files, history/, and nothing else.

Every writer (merge, the yearly archive, template and pre-fill) keeps its temporary files
in one private folder beside its target (kam.fs.private_dir), removed on every exit path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import multiprocessing as mp
import os
import random
import shutil
import signal
import stat
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_merge import branch_file
from test_register_quarters import CODES as QCODES
from test_register_quarters import _events_2024, quarter_file, visit
from test_register_safety import CODES, TODAY
from test_shared_server import CACHE, ROOT, kam, listing, tmpfs, umask

from kam.errors import UsageError
from kam.prefill import PrefillSettings, prefill
from kam.register import MergeSettings, merge
from kam.register import sheet_rows as sheet_rows_module
from kam.register.archive import archive_files
from kam.register.merge import Step
from kam.template import write_template
from kam.uscc import make_uscc

NAME = "集团大客户名录.xlsx"


class Boom(RuntimeError):
    """The injected failure."""


def failing_after(real: Callable[..., Any], when: Callable[[Path], bool]) -> Callable[..., Any]:
    """`real` (splice), then a failure once it has made its temporary files, for `when`'s paths."""

    def run(path: Path, *args: Any) -> Any:
        made = real(path, *args)
        if when(Path(path)):
            # Every temporary file of this write exists now: the row XML and the spliced copy.
            assert [p for p in Path(path).parent.iterdir() if p.name.endswith(".rows.xml")]
            raise Boom(str(path))
        return made

    return run


def test_template_and_prefill_fail_midway_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    register = tmp_path / "reg" / NAME
    merge(MergeSettings(register=register, inbox=inbox, today=TODAY))
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.xlsx").write_bytes(b"a file of the user's")
    real = sheet_rows_module.splice
    monkeypatch.setattr("kam.template.splice", failing_after(real, lambda p: True))
    with pytest.raises(Boom):
        prefill(PrefillSettings(register, "2026Q4", out))
    with pytest.raises(Boom):  # the blank template splices nothing: fail at its replace
        monkeypatch.setattr("kam.template.os.replace", _raise(Boom("replace")))
        write_template(out)
    assert listing(out) == {"earlier.xlsx"}
    assert listing(register.parent) == {NAME, CACHE}


def _raise(exc: BaseException) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return run


def test_archive_that_fails_midway_leaves_the_old_register_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = tmp_path / "reg" / NAME
    c = QCODES["华东分公司"][0]
    quarter_file(tmp_path / "q1", "华东分公司", "2026Q1", [c])
    merge(MergeSettings(register=reg, inbox=tmp_path / "q1", today=dt.date(2026, 12, 20)))
    before, names = reg.read_bytes(), listing(reg.parent)
    quarter_file(tmp_path / "q2", "华东分公司", "2026Q2", [c], **_events_2024(c))
    archive_fails = failing_after(sheet_rows_module.splice, lambda p: "归档" in p.name)
    monkeypatch.setattr(sheet_rows_module, "splice", archive_fails)
    settings = MergeSettings(register=reg, inbox=tmp_path / "q2", today=dt.date(2026, 12, 20))
    with pytest.raises(Boom):
        merge(settings)
    assert reg.read_bytes() == before and listing(reg.parent) == names == {NAME, CACHE}
    monkeypatch.undo()
    reg.chmod(0o640)
    with umask(0o022):
        assert merge(settings).written  # the archive is written now, with the register's mode
    (year,) = archive_files(reg)[2024]
    assert stat.S_IMODE(year.stat().st_mode) == 0o640
    assert listing(reg.parent) == {NAME, CACHE, "history", year.name}


@pytest.mark.parametrize(
    "where", ["kam.register.writer.splice", "kam.register.safety.backup", "os.replace"]
)
def test_merge_that_fails_midway_leaves_the_old_register_and_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    first, second = tmp_path / "in1", tmp_path / "in2"
    branch_file(first, "a.xlsx", "华东分公司", CODES[:2])
    branch_file(second, "b.xlsx", "华南分公司", CODES[2:4])
    register = tmp_path / "reg" / NAME
    settings = MergeSettings(register=register, inbox=first, today=TODAY)
    merge(settings)
    merge(dataclasses.replace(settings, inbox=second))  # history/ holds one copy now
    before, history = register.read_bytes(), listing(register.parent / "history")
    branch_file(tmp_path / "in3", "c.xlsx", "华北分公司", CODES[4:6])
    if where == "os.replace":  # the final replace, once the history copy is made
        real_replace = os.replace

        def refuse(src: Any, dst: Any) -> None:
            if Path(dst) == register:
                raise OSError(errno.EIO, "injected", str(dst))
            real_replace(src, dst)

        monkeypatch.setattr("kam.register.safety.os.replace", refuse)
    elif where.endswith("splice"):
        monkeypatch.setattr(where, failing_after(sheet_rows_module.splice, lambda p: True))
    else:
        monkeypatch.setattr(where, _raise(Boom(where)))
    with pytest.raises((Boom, OSError)):
        merge(dataclasses.replace(settings, inbox=tmp_path / "in3"))
    assert register.read_bytes() == before
    assert listing(register.parent) == {NAME, CACHE, "history"}  # the old register's cache
    # A history copy made before the replace failed is a whole copy of the old register.
    for name in listing(register.parent / "history") - history:
        assert (register.parent / "history" / name).read_bytes() == before


@pytest.mark.skipif(not ROOT or shutil.which("mount") is None, reason="needs root to mount")
def test_prefill_on_a_full_disk_keeps_whole_files_only(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    for i, unit in enumerate(("华东分公司", "华南分公司", "华北分公司", "西南分公司")):
        branch_file(inbox, f"{i}.xlsx", unit, QCODES["华东分公司"][i : i + 1])
    register = tmp_path / "reg" / NAME
    merge(MergeSettings(register=register, inbox=inbox, today=TODAY))
    with tmpfs(tmp_path / "fs", "560k") as fs:  # each ~62 KB, ~460 KB while written
        with pytest.raises(UsageError, match="磁盘空间已满"):
            prefill(PrefillSettings(register, "2026Q4", fs, parallel_from=99))
        made = listing(fs)
        assert all(n.endswith("_2026Q4_报送.xlsx") for n in made), made
        assert 0 < len(made) < 4
        for name in made:
            with zipfile.ZipFile(fs / name) as zf:
                assert zf.testzip() is None


# --- kill -9 during the write phase ------------------------------------------------------


def _merge_reporting(settings: MergeSettings, writing: Any, took: Any = None) -> None:
    """merge(), setting `writing` when its write phase starts (archive, register, history)
    and, if given, `took` to that phase's length in seconds."""
    start: list[float] = []

    def progress(step: Step) -> None:
        if step.text.startswith("写入"):
            start.append(time.monotonic())
            writing.set()

    merge(settings, progress)
    if took is not None:
        took.value = time.monotonic() - start[0]


def _round(tmp_path: Path, i: int) -> Path:
    """Round i's inbox: a new branch's 300 customers, and one 2024 visit each, which the
    write phase moves to a yearly archive (a supplement after the first round)."""
    codes = [make_uscc(1000 * (i + 1) + j) for j in range(300)]
    old = [visit(c, dt.date(2024, 5, 6)) for c in codes]
    inbox = tmp_path / f"round{i}"
    branch_file(inbox, "f.xlsx", f"第{i}分公司", codes, reception=old)
    return inbox


def test_kill_at_random_moments_of_the_write_phase_then_the_next_merge_sweeps(
    tmp_path: Path,
) -> None:
    from test_shared_server import setup

    register, _ = setup(tmp_path)
    ctx = mp.get_context("fork")
    # How long the write phase lasts here and now (the machine may be loaded): a full run.
    took = ctx.Value("d", 0.0)
    child = ctx.Process(
        target=_merge_reporting,
        args=(MergeSettings(register, _round(tmp_path, 0), today=TODAY), ctx.Event(), took),
    )
    child.start()
    child.join()
    assert child.exitcode == 0 and took.value > 0
    rounds, rng, caught = 5, random.Random(17), 0
    for i in range(1, rounds + 1):
        settings = MergeSettings(register, _round(tmp_path, i), today=TODAY)
        before = register.read_bytes()
        archives = set(archive_names(register))
        writing = ctx.Event()
        child = ctx.Process(target=_merge_reporting, args=(settings, writing))
        child.start()
        assert writing.wait(120)
        # Round i kills in the i-th slice of the phase (and a little past its end).
        time.sleep(took.value * 1.1 * (i - 1 + rng.random()) / rounds)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid or 0, signal.SIGKILL)
        child.join()
        files = listing(register.parent)
        debris = files - {NAME, CACHE, "history"} - set(archive_names(register))
        assert all(n.startswith((".kam-tmp.", f"{NAME}.lock")) for n in debris), debris
        swept = {n for n in debris if n.startswith(".kam-tmp.")}
        caught += bool(swept)
        # The old register or the whole new one; an archive is there whole or not at all.
        with zipfile.ZipFile(register) as zf:
            assert register.read_bytes() == before or zf.testzip() is None
        for name in set(archive_names(register)) - archives:
            with zipfile.ZipFile(register.parent / name) as zf:
                assert zf.testzip() is None
        # The next run sweeps, says so (the CLI's words), and leaves only the register,
        # history/ and the archives.
        if swept:
            done = kam("merge", str(settings.inbox), "--register", str(register),
                       "--today", TODAY.isoformat())  # fmt: skip
            assert done.returncode == 0, done.stderr
            text = "".join(done.stdout.split())
            assert "已清理上次中断的合并留下的临时文件" in text, text
            assert all(name in text for name in swept)
        else:
            assert merge(settings).swept == []
        assert listing(register.parent) == {NAME, CACHE, "history", *archive_names(register)}
        assert not list((register.parent / "history").glob(".*"))
    assert caught >= rounds // 2  # most kills landed inside the write phase


def archive_names(register: Path) -> list[str]:
    return [p.name for ps in archive_files(register).values() for p in ps]
