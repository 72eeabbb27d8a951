"""The inbox is read two files at a time (kam.register.reading): a stalled file does not
hold up the others, and the merge's result is the one of reading the files one by one."""

from __future__ import annotations

import dataclasses
import multiprocessing
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import python_calamine as calamine
from test_merge import branch_file
from test_register_safety import CODES, TODAY

from kam.register import MergeSettings, merge
from kam.register import reading as reading_module
from kam.register.fingerprints import FINGERPRINTS
from kam.register.intake import IntakeSettings, take_in
from kam.register.reading import fresh_files, read_ahead
from kam.rules import load_rules

CLOCK = {"更新时间", "合并时间", "记录时间"}  # when the merge ran
UNITS = ("华东分公司", "华南分公司", "华北分公司", "西南分公司")


def inbox_of(folder: Path) -> Path:
    """Four branch files and a renamed copy of the first; b.xlsx is not a workbook."""
    for i, unit in enumerate(UNITS):
        branch_file(folder, f"{'acde'[i]}.xlsx", unit, CODES[i : i + 2])
    (folder / "b.xlsx").write_bytes(b"not a workbook")
    shutil.copy(folder / "a.xlsx", folder / "f.xlsx")
    return folder


def content(register: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values but the merge's own clock (and the fingerprints, made of them)."""
    book = calamine.CalamineWorkbook.from_path(str(register))
    sheets = {}
    for name in book.sheet_names:
        grid = book.get_sheet_by_name(name).to_python()
        clock = [i for i, h in enumerate(grid[0] if grid else []) if h in CLOCK]
        sheets[name] = [[v for i, v in enumerate(r) if i not in clock] for r in grid]
    del sheets[FINGERPRINTS.sheet]
    return sheets


def test_a_stalled_file_does_not_hold_up_the_others_and_order_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = inbox_of(tmp_path / "in")
    one_by_one = merge(MergeSettings(tmp_path / "r1" / "名录.xlsx", inbox, today=TODAY,
                                     files_at_once=1))  # fmt: skip
    # Each file is taken in by a child process of its own: the event and the flag are
    # shared between processes (threads, where fork is missing).
    shared = multiprocessing.get_context("fork") if reading_module.APART else None
    last_read = shared.Event() if shared else threading.Event()
    stalled = shared.Value("i", 0) if shared else _Flag()

    def slow_first(path: Path, sha: str, settings: Any, name: str) -> Any:
        if name == "a.xlsx":  # stalls until the inbox's last file has been read
            stalled.value = 1 if last_read.wait(120) else -1
        intake = take_in(path, sha, settings, name)
        if name == "e.xlsx":
            last_read.set()
        return intake

    monkeypatch.setattr(reading_module, "take_in", slow_first)
    steps: list[str] = []
    two = merge(
        MergeSettings(tmp_path / "r2" / "名录.xlsx", inbox, today=TODAY),
        lambda step: steps.append(step.text),
    )
    assert stalled.value == 1  # c, d and e were read while a.xlsx stalled
    names = ["a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx", "e.xlsx", "f.xlsx"]
    assert [o.file for o in two.files] == names
    assert [s.removeprefix("读取 ") for s in steps if s.startswith("读取")] == names
    assert [o.to_json() for o in two.files] == [o.to_json() for o in one_by_one.files]
    assert two.files[1].status == "rejected" and two.files[5].status == one_by_one.files[5].status
    assert content(two.register) == content(one_by_one.register)


class _Flag:
    value = 0


def test_a_failing_read_ends_the_merge_and_leaves_the_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = inbox_of(tmp_path / "in")
    settings = MergeSettings(tmp_path / "reg" / "名录.xlsx", tmp_path / "in", today=TODAY)
    first = tmp_path / "first"
    branch_file(first, "x.xlsx", "东北分公司", CODES[5:6])
    merge(dataclasses.replace(settings, inbox=first))
    before = settings.register.read_bytes()

    def refuse(path: Path, sha: str, settings: Any, name: str) -> Any:
        if name == "c.xlsx":
            raise PermissionError(13, "denied", str(path))
        return take_in(path, sha, settings, name)

    monkeypatch.setattr(reading_module, "take_in", refuse)
    with pytest.raises(PermissionError):
        merge(settings)
    assert settings.register.read_bytes() == before
    assert {p.name for p in settings.register.parent.iterdir()} == {"名录.xlsx", "名录.xlsx.cache"}
    assert inbox.is_dir()


def test_only_the_first_copy_of_new_content_is_read() -> None:
    files = [(Path(n), n) for n in ("a", "b", "c", "d")]
    fresh = fresh_files(files, ["1", "2", "1", "3"], {"3": object()})
    assert fresh == [(Path("a"), "1", "a"), (Path("b"), "2", "b")]


@pytest.mark.parametrize("apart", [True, False], ids=["workers", "threads"])
def test_many_files_read_two_at_a_time_give_the_one_by_one_intakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apart: bool
) -> None:
    """Worker processes, or (where fork is missing) threads, whose children are started
    and reaped at once (multiprocessing polls every child on each start: a join may find
    its child reaped by the other thread)."""
    if apart and not reading_module.APART:
        pytest.skip("worker processes need fork")
    monkeypatch.setattr(reading_module, "APART", apart)
    inbox = inbox_of(tmp_path / "in")
    files = [(p, p.name, p.name) for p in sorted(inbox.iterdir())] * 5
    settings = IntakeSettings(today=TODAY, rules=load_rules())
    with read_ahead(files, settings, 1) as reads:
        one_by_one = [i.outcome.to_json() for i in reads]
    with read_ahead(files, settings, 2) as reads:
        assert [i.outcome.to_json() for i in reads] == one_by_one
