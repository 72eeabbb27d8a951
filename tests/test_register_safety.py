"""Register safety: the lock, atomic replace, history, refused replace, kill mid-write, and
the writer's treatment of branch values (text never becomes a formula, nothing cut silently)."""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing as mp
import os
import signal
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kam.errors import LockHeldError, RegisterWriteError, UnreadableFileError, UsageError
from kam.register import MergeSettings, merge, safety
from kam.register.columns import REG_ROSTER, REJECTED
from kam.register.sheet_rows import CELL_LIMIT
from kam.register.writer import RegisterData, write_register
from kam.uscc import make_uscc

sys.path.insert(0, str(Path(__file__).parent))
from builders import card_row
from test_merge import branch_file, customer, info, sheet_rows, submit

CODES = [make_uscc(100 + i) for i in range(6)]
TODAY = dt.date(2026, 10, 20)


def settings(tmp: Path, inbox: Path, **over: object) -> MergeSettings:
    reg = tmp / "reg" / "集团大客户名录.xlsx"
    return MergeSettings(**{"register": reg, "inbox": inbox, "today": TODAY, **over})  # type: ignore[arg-type]


@pytest.fixture
def merged(tmp_path: Path) -> MergeSettings:
    """A register made by one merge, and a second inbox with a new branch file."""
    first = tmp_path / "in1"
    branch_file(first, "a.xlsx", "华东分公司", CODES[:2])
    merge(settings(tmp_path, first))
    second = tmp_path / "in2"
    branch_file(second, "b.xlsx", "华南分公司", CODES[2:4])
    return settings(tmp_path, second)


def test_held_lock_names_holder(merged: MergeSettings) -> None:
    before = merged.register.read_bytes()
    with safety.register_lock(merged.register), pytest.raises(LockHeldError) as err:
        merge(merged)
    text = str(err.value)
    assert str(os.getpid()) in text and "正在被" in text
    assert merged.register.read_bytes() == before
    assert safety.held_by(merged.register) is None  # sidecar removed on release
    assert merge(merged).written  # the lock is free again


def _hold_lock(register: str, ready: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    with safety.register_lock(Path(register)):
        ready.set()
        time.sleep(60)


def test_lock_held_by_other_process(merged: MergeSettings) -> None:
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(merged.register), ready))
    child.start()
    try:
        assert ready.wait(30)
        holder = safety.held_by(merged.register)
        assert holder is not None and holder["pid"] == child.pid
        with pytest.raises(LockHeldError, match=str(child.pid)):
            merge(merged)
    finally:
        child.kill()
        child.join()
    assert merge(merged).written  # a dead holder's lock is released by the OS


def test_refused_replace_keeps_new_register_aside(
    merged: MergeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = merged.register.read_bytes()
    real = os.replace

    def refuse(src: object, dst: object) -> None:
        if Path(str(dst)) == merged.register:
            raise PermissionError(13, "The process cannot access the file")
        real(src, dst)

    monkeypatch.setattr(safety.os, "replace", refuse)
    with pytest.raises(RegisterWriteError) as err:
        merge(merged)
    assert "Excel" in str(err.value) and "集团大客户名录.新.xlsx" in str(err.value)
    assert merged.register.read_bytes() == before
    kept = merged.register.with_name("集团大客户名录.新.xlsx")
    assert len(sheet_rows(kept, REG_ROSTER.sheet)) == 4
    leftovers = [p for p in merged.register.parent.iterdir() if p.name.endswith(".tmp.xlsx")]
    assert leftovers == []


def _merge_and_hang(s: MergeSettings, started: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    # The package re-exports the function `merge`, which shadows the module attribute.
    m = importlib.import_module("kam.register.merge")

    def slow_write(path: Path, data: RegisterData) -> list[str]:
        with open(path, "wb") as fh:
            fh.write(b"PK\x03\x04 half a workbook")
            fh.flush()
            started.set()
            time.sleep(60)
        return []

    m.write_register = slow_write  # type: ignore[assignment]
    merge(s)


def test_killed_mid_write_leaves_old_register(merged: MergeSettings) -> None:
    before = merged.register.read_bytes()
    ctx = mp.get_context("fork")
    started = ctx.Event()
    child = ctx.Process(target=_merge_and_hang, args=(merged, started))
    child.start()
    try:
        assert started.wait(60)
        os.kill(child.pid or 0, signal.SIGKILL)
    finally:
        child.join()
    assert child.exitcode == -signal.SIGKILL
    assert merged.register.read_bytes() == before
    assert len(sheet_rows(merged.register, REG_ROSTER.sheet)) == 2
    result = merge(merged)  # the next merge runs (lock released) and succeeds
    assert result.written and len(sheet_rows(result.register, REG_ROSTER.sheet)) == 4


def test_history_keeps_last_n(tmp_path: Path) -> None:
    for i in range(4):
        inbox = tmp_path / f"in{i}"
        branch_file(inbox, f"f{i}.xlsx", f"第{i}分公司", CODES[i : i + 1])
        merge(settings(tmp_path, inbox, keep_history=2))
    hist = sorted((tmp_path / "reg" / "history").iterdir())
    assert len(hist) == 2
    # The newest backup is the register as it was before the last merge (3 customers).
    assert len(sheet_rows(hist[-1], REG_ROSTER.sheet)) == 3


def test_writer_keeps_text_as_text_and_reports_cuts(tmp_path: Path) -> None:
    data = RegisterData.empty()
    names = ["=1+1", "+A1", "-A1", "@SUM(A1)", "\t=cmd", "\r=cmd", "a\x00b\x1fc", "x" * 40000]
    data.roster = pd.DataFrame(
        {"name": names, "uscc": CODES[0], "listed_on": dt.datetime(2024, 1, 1)}
    ).reindex(columns=[f.id for f in REG_ROSTER.fields])
    path = tmp_path / "r.xlsx"
    notes = write_register(path, data)
    ws = openpyxl.load_workbook(path)[REG_ROSTER.sheet]
    cells = [ws.cell(r, 1) for r in range(2, 2 + len(names))]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells[:4]] == names[:4]
    assert cells[4].value.endswith("=cmd") and cells[5].value.endswith("=cmd")
    assert cells[6].value == "abc"
    assert len(cells[7].value) == CELL_LIMIT and "已截断" in cells[7].value
    assert notes == [f"{REG_ROSTER.sheet}!A9"]
    assert ws.cell(2, list(REG_ROSTER.headers).index("纳入名录日期") + 1).is_date


def test_too_long_text_row_is_rejected_not_cut(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    marker = "PLACEHOLDER-HISTORY"
    card = card_row(uscc=CODES[0], history=marker)
    rows = {"roster": [customer(CODES[0], "华东分公司")], "cards": [card]}
    path = submit(inbox / "a.xlsx", info("华东分公司"), rows)
    # xlsxwriter and openpyxl both cut such a cell: plant it in the XML, as a hostile file would.
    _replace_in_zip(path, marker, "长" * (CELL_LIMIT + 10))
    result = merge(settings(tmp_path, inbox))
    (f,) = result.files
    assert (f.rows_in, f.merged, f.rejected) == (2, 1, 1)
    (refused,) = sheet_rows(result.register, REJECTED.sheet)
    assert refused["规则"] == "too_long" and "32767" in refused["说明"]
    assert "已截断" in refused["原始值"]  # the original itself is too long: cut, and says so


def _replace_in_zip(path: Path, old: str, new: str) -> None:
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for item, body in entries:
            zf.writestr(item, body.replace(old.encode(), new.encode()))


def test_unreadable_register_is_refused_and_left_alone(merged: MergeSettings) -> None:
    merged.register.write_bytes(b"not a workbook")
    with pytest.raises(UnreadableFileError, match="history"):
        merge(merged)
    assert merged.register.read_bytes() == b"not a workbook"
    assert not merged.register.with_name("集团大客户名录.新.xlsx").exists()


def test_missing_inbox_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="找不到报送文件夹"):
        merge(settings(tmp_path, tmp_path / "nope"))
