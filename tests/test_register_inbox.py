"""Which file wins (DOMAIN §5) and the inbox rules: recursion, skipped files, empty inbox."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zipfile
from pathlib import Path

from test_cli import kam
from test_merge import CODES, TODAY, branch_file, run, sheet_rows
from typer.testing import CliRunner

from kam.cli.app import app
from kam.forms import CONTRACTS
from kam.register.columns import REG_ROSTER, SUBMISSIONS
from kam.register.newest import saved_time

NORTH = "北方分公司"


def set_saved(path: Path, when: str) -> None:
    """Rewrite the workbook's docProps/core.xml dcterms:modified."""
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + when.encode() + rb"\g<2>",
                    data,
                )
            zout.writestr(info, data)


def touch(path: Path, stamp: int) -> None:
    os.utime(path, (stamp, stamp))


def test_saved_time_reads_core_xml(tmp_path: Path) -> None:
    path = branch_file(tmp_path, "a.xlsx", NORTH, CODES[:1])
    set_saved(path, "2026-10-12T08:30:00Z")
    assert saved_time(path) == dt.datetime(2026, 10, 12, 8, 30)
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    assert saved_time(tmp_path / "b.xlsx") is None


def test_corrected_file_wins_by_saved_time_not_by_name(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    original = branch_file(inbox, f"{NORTH}_2026Q3.xlsx", NORTH, CODES[:2])
    corrected = branch_file(inbox, f"{NORTH}_2026Q3(修订).xlsx", NORTH, CODES[:3])
    set_saved(original, "2026-10-10T09:00:00Z")
    set_saved(corrected, "2026-10-11T09:00:00Z")
    touch(original, 1_800_000_000)  # the file times point the other way: ignored
    touch(corrected, 1_700_000_000)
    result = run(tmp_path, inbox)
    by = {f.file: f for f in result.files}
    assert by[corrected.name].status == "merged"
    old = by[original.name]
    assert old.status == "superseded" and old.rejected == old.rows_in and old.merged == 0
    assert corrected.name in old.reason and original.name in old.reason
    assert "报送日期相同" in old.reason and "工作簿保存时间" in old.reason
    assert "2026-10-11 09:00:00 晚于 2026-10-10 09:00:00" in old.reason
    assert not result.has_errors
    assert len(sheet_rows(result.register, REG_ROSTER.sheet)) == 3


def test_file_time_decides_when_dates_and_saved_times_tie(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    a = branch_file(inbox, "z.xlsx", NORTH, CODES[:2])
    b = branch_file(inbox, "a.xlsx", NORTH, CODES[:3])
    touch(a, 1_700_000_000)
    touch(b, 1_700_000_100)
    by = {f.file: f for f in run(tmp_path, inbox).files}
    assert by["a.xlsx"].status == "merged" and by["z.xlsx"].status == "superseded"
    assert "文件修改时间" in by["z.xlsx"].reason


def test_complete_tie_merges_neither_and_says_why(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    a = branch_file(inbox, "a.xlsx", NORTH, CODES[:2])
    b = branch_file(inbox, "b.xlsx", NORTH, CODES[:3])
    touch(a, 1_700_000_000)
    touch(b, 1_700_000_000)
    result = run(tmp_path, inbox)
    assert [f.status for f in result.files] == ["rejected", "rejected"]
    assert all("无法判断哪份更新" in f.reason and "“b.xlsx”" in f.reason for f in result.files)
    assert sheet_rows(result.register, REG_ROSTER.sheet) == []


def test_original_merged_before_is_superseded_and_totals_match_register(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    original = branch_file(inbox, f"{NORTH}_2026Q3.xlsx", NORTH, CODES[:2])
    branch_file(inbox, "华东.xlsx", "华东分公司", CODES[5:7])
    touch(original, 1_700_000_000)
    first = run(tmp_path, inbox)
    assert first.totals["merged"] == 12
    corrected = branch_file(inbox, f"{NORTH}_2026Q3(修订).xlsx", NORTH, CODES[:3])
    touch(corrected, 1_700_000_100)
    second = run(tmp_path, inbox)
    by = {f.file: f for f in second.files}
    assert by[original.name].status == "superseded" and by[original.name].merged == 0
    assert by[corrected.name].status == "merged" and by["华东.xlsx"].status == "unchanged"
    held = sum(
        len(sheet_rows(second.register, s))
        for s in (REG_ROSTER.sheet, CONTRACTS.sheet, "信息登记卡")
    )
    assert second.totals["merged"] == held == 15
    t = second.totals
    assert t["rows_in"] == t["merged"] + t["rejected"] + t["duplicate"]
    # Seen again, the original stays superseded; an older copy never displaces the newer.
    third = run(tmp_path, inbox)
    assert {f.file: f.status for f in third.files}[original.name] == "superseded"
    assert third.totals["merged"] == held


def test_subfolders_are_read_and_named_by_relative_path(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox / "邮件" / "华东", "a.xlsx", "华东分公司", CODES[:1])
    result = run(tmp_path, inbox)
    assert [f.file for f in result.files] == ["邮件/华东/a.xlsx"]
    assert {r["来源文件"] for r in sheet_rows(result.register, CONTRACTS.sheet)} == {
        "邮件/华东/a.xlsx"
    }


def test_owner_and_hidden_files_are_skipped_and_listed(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    (inbox / "~$a.xlsx").write_bytes(b"\x00" * 165)  # Excel's owner file
    (inbox / ".DS_Store").write_bytes(b"x" * 5000)
    (inbox / ".tmp").mkdir()
    (inbox / ".tmp" / "b.xlsx").write_bytes(b"x")
    (inbox / "~$big.xlsx").write_bytes(b"x" * 4096)  # not an owner file: read (and refused)
    result = run(tmp_path, inbox)
    skipped = {s["file"] for s in result.skipped}
    assert skipped == {"~$a.xlsx", ".DS_Store", ".tmp/b.xlsx"}
    assert {f.file: f.status for f in result.files} == {
        "a.xlsx": "merged",
        "~$big.xlsx": "rejected",
    }
    assert result.to_json()["skipped"] == result.skipped


def test_register_inside_the_inbox_is_not_read(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    register = inbox / "集团大客户名录.xlsx"
    run(tmp_path, inbox, register=register)
    branch_file(inbox, "b.xlsx", "华南分公司", CODES[3:4])
    second = run(tmp_path, inbox, register=register)
    assert [f.file for f in second.files] == ["a.xlsx", "b.xlsx"]
    assert any(s["file"] == register.name for s in second.skipped)


def test_inbox_without_workbooks_is_exit_2_naming_the_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "空文件夹"
    inbox.mkdir()
    (inbox / "~$x.xlsx").write_bytes(b"\x00" * 100)
    got = kam("merge", str(inbox), "--register", str(tmp_path / "r.xlsx"))
    assert got.returncode == 2
    assert "空文件夹" in got.stderr and "没有任何报送工作簿" in got.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_unreadable_file_of_a_known_branch_is_not_called_unsubmitted(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "华东分公司_2026Q3.xlsx", "华东分公司", CODES[:1])
    (inbox / "华中分公司_2026Q3.xlsx").write_text("客户,金额\n", encoding="utf-8")
    branches = ("华东分公司", "华中分公司", "西北分公司")
    result = run(tmp_path, inbox, branches=branches)
    assert result.missing_branches == ["西北分公司"]
    assert result.unreadable_branches == ["华中分公司"]
    sub = {(r["单位"], r["状态"]) for r in sheet_rows(result.register, SUBMISSIONS.sheet)}
    assert ("华中分公司", "报送文件无法读取") in sub and ("西北分公司", "未报送") in sub
    assert ("华中分公司", "未报送") not in sub


def test_branch_list_recorded_when_no_file_changed(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    run(tmp_path, inbox)
    result = run(tmp_path, inbox, branches=("华东分公司", "西北分公司"))
    assert [f.status for f in result.files] == ["unchanged"] and result.written
    sub = {(r["单位"], r["状态"]) for r in sheet_rows(result.register, SUBMISSIONS.sheet)}
    assert ("西北分公司", "未报送") in sub
    again = run(tmp_path, inbox, branches=("华东分公司", "西北分公司"))
    assert not again.written  # recorded once; nothing to change the second time


def test_merge_json_lists_skipped(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    (inbox / "~$a.xlsx").write_bytes(b"\x00" * 165)
    reg = tmp_path / "r.xlsx"
    got = CliRunner().invoke(
        app, ["merge", str(inbox), "--register", str(reg), "--json", "--today", str(TODAY)]
    )
    doc = json.loads(got.stdout)
    assert doc["skipped"][0]["file"] == "~$a.xlsx" and doc["files"][0]["file"] == "a.xlsx"
