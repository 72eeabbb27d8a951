"""`kam risk` on the HQ register: every merged row counts, HQ's override wins, --apply rewrites."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from test_cli import kam
from test_register_render import HIGH, LOW, MEDIUM, merged_register

from kam.register.columns import REG_ROSTER


def test_risk_on_register_json_and_apply(tmp_path: Path) -> None:
    register = merged_register(tmp_path)
    done = kam("risk", str(register), "--json")
    assert done.returncode == 0, done.stderr
    levels = {c["key"]: c["level"] for c in json.loads(done.stdout)["customers"]}
    assert (levels[HIGH], levels[MEDIUM], levels[LOW]) == ("高", "中", "低")

    wb = openpyxl.load_workbook(register)  # HQ edits its own column between merges
    ws = wb[REG_ROSTER.sheet]
    header = [c.value for c in ws[1]]
    key, manual = (header.index(REG_ROSTER[f].header) + 1 for f in ("uscc", "manual_risk"))
    (row,) = [r for r in range(2, ws.max_row + 1) if ws.cell(r, key).value == LOW]
    ws.cell(row, manual).value = "高"
    ws.cell(1, ws.max_column + 1).value = "跟进人"  # and a column of its own, which cannot stay
    ws.cell(2, ws.max_column).value = "张三"
    wb.save(register)

    customers = {
        c["key"]: c for c in json.loads(kam("risk", str(register), "--json").stdout)["customers"]
    }
    assert customers[LOW]["level"] == "高"
    assert (customers[LOW]["computed_level"], customers[LOW]["manual_level"]) == ("低", "高")

    applied = kam("risk", str(register), "--apply")
    assert applied.returncode == 0, applied.stderr
    assert list((tmp_path / "history").glob("*.xlsx"))  # the previous register is kept
    (lost,) = (tmp_path / "history").glob("*.未保留的手工修改.csv")
    assert "跟进人" in lost.read_text(encoding="utf-8-sig") and str(lost) in applied.stderr
    ws = openpyxl.load_workbook(register)[REG_ROSTER.sheet]
    (row,) = [r for r in range(2, ws.max_row + 1) if ws.cell(r, key).value == LOW]
    assert ws.cell(row, manual).value == "高"  # the override survives the rewrite


def test_apply_on_a_submission_is_refused(tmp_path: Path) -> None:
    from builders import DEFAULT_ROWS, INFO_OK

    from kam.template import Layout, write_submission

    path = write_submission(tmp_path / "b.xlsx", INFO_OK, DEFAULT_ROWS, layout=Layout(data_rows=5))
    done = kam("risk", str(path), "--apply")
    assert done.returncode == 2 and "集团大客户名录" in done.stderr


def test_bankruptcy_tops_the_summary_sheet(tmp_path: Path) -> None:
    import datetime as dt

    import python_calamine
    from builders import DEFAULT_ROWS, INFO_OK

    from kam.register.columns import SUMMARY_SHEET
    from kam.register.merge import MergeSettings, merge
    from kam.register.summary_sheet import ALERT_TITLE, NO_ALERT
    from kam.template import Layout, write_submission

    uscc = DEFAULT_ROWS["roster"][0]["uscc"]
    report = {
        "uscc": uscc,
        "risk_type": "破产征兆",
        "level": "高",
        "found_on": dt.datetime(2026, 9, 1),
        "description": "法院受理破产申请",
    }
    for name, rows, first in (
        ("quiet", DEFAULT_ROWS, NO_ALERT),
        ("alarm", {**DEFAULT_ROWS, "risk": [report]}, ALERT_TITLE),
    ):
        inbox = tmp_path / name
        inbox.mkdir()
        write_submission(inbox / "华东.xlsx", INFO_OK, rows, layout=Layout(data_rows=5))
        register = tmp_path / f"{name}.xlsx"
        merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2026, 10, 15)))
        book = python_calamine.CalamineWorkbook.from_path(str(register))
        grid = book.get_sheet_by_name(SUMMARY_SHEET).to_python()
        assert grid[0][0] == first
        if first == ALERT_TITLE:
            assert grid[2][0] == uscc and "破产" in " ".join(map(str, grid[2]))


def test_risk_button_rewrites_levels_in_the_open_register(tmp_path: Path) -> None:
    from kam.io.openpyxl_book import OpenpyxlBook
    from macros import risk_marks

    register = merged_register(tmp_path)
    wb = openpyxl.load_workbook(register)  # someone blanked the computed levels
    ws = wb[REG_ROSTER.sheet]
    header = [c.value for c in ws[1]]
    key, level = (header.index(REG_ROSTER[f].header) + 1 for f in ("uscc", "risk_level"))
    for r in range(2, ws.max_row + 1):
        ws.cell(r, level).value = None
    wb.save(register)

    book = OpenpyxlBook.open(register)
    risk_marks.run(book)
    assert "重新评估风险" in book.alerts[-1][1]
    book.save_as(tmp_path / "after.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "after.xlsx")[REG_ROSTER.sheet]
    got = {ws.cell(r, key).value: ws.cell(r, level).value for r in range(2, ws.max_row + 1)}
    assert (got[HIGH], got[MEDIUM], got[LOW]) == ("高", "中", "低")
