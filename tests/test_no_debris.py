"""No temporary debris: a write that fails at any point (an exception in the middle, a full
disk) leaves its folder as it was: the old files, history/, and nothing else.

Every writer (merge, the yearly archive, template and pre-fill) keeps its temporary files
in one private folder beside its target (kam.fs.private_dir), removed on every exit path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_merge import branch_file
from test_register_quarters import CODES as QCODES
from test_register_quarters import _events_2024, quarter_file
from test_register_safety import CODES, TODAY
from test_shared_server import ROOT, listing, tmpfs, umask

from kam.errors import UsageError
from kam.prefill import PrefillSettings, prefill
from kam.register import MergeSettings, merge
from kam.register import sheet_rows as sheet_rows_module
from kam.register.archive import archive_files
from kam.template import write_template

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
    assert listing(register.parent) == {NAME}


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
    assert reg.read_bytes() == before and listing(reg.parent) == names == {NAME}
    monkeypatch.undo()
    reg.chmod(0o640)
    with umask(0o022):
        assert merge(settings).written  # the archive is written now, with the register's mode
    (year,) = archive_files(reg)[2024]
    assert stat.S_IMODE(year.stat().st_mode) == 0o640
    assert listing(reg.parent) == {NAME, "history", year.name}


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
    assert listing(register.parent) == {NAME, "history"}
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
