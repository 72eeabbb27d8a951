"""The tolerant reader on real drifted workbooks (DOMAIN §2.8), read from files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from builders import DEFAULT_ROWS, INFO_OK, card_row, contract_row, roster_row

from kam.forms import CONTRACTS, ROSTER
from kam.io.files import load_raw
from kam.reader import read_book
from kam.template import Layout, write_submission
from kam.validate import ValidateSettings, validate_file

SETTINGS = ValidateSettings(today=dt.date(2026, 10, 15))
SMALL = Layout(data_rows=20)


def write(tmp_path: Path, rows=None, layout: Layout = SMALL, name: str = "b.xlsx") -> Path:
    return write_submission(tmp_path / name, INFO_OK, rows or DEFAULT_ROWS, layout=layout)


def edit(src: Path, dst: Path, sheet: str, change) -> Path:
    wb = openpyxl.load_workbook(src)
    change(wb[sheet])
    wb.save(dst)
    return dst


def rules_at(report, rule: str) -> list[tuple[str | None, str | None]]:
    return sorted((f.sheet, f.cell) for f in report.findings if f.rule == rule)


def test_template_written_file_reads_back_typed(tmp_path: Path) -> None:
    sub = read_book(load_raw(write(tmp_path)))
    roster = sub.sheets[ROSTER.id]
    assert roster.frame.index.tolist() == [2]
    assert roster.frame.at[2, "uscc"] == roster_row()["uscc"]
    assert roster.frame.at[2, "listed_on"] == dt.datetime(2024, 3, 1)
    assert sub.unit == "华东分公司" and sub.as_of == dt.date(2026, 9, 30)
    assert validate_file(tmp_path / "b.xlsx", SETTINGS).findings == []


def test_title_rows_above_the_header_shift_every_cell(tmp_path: Path) -> None:
    rows = {**DEFAULT_ROWS, "roster": [roster_row(nature="私营企业")]}
    path = write(tmp_path, rows, Layout(title_rows=2, data_rows=20))
    report = validate_file(path, SETTINGS)
    assert rules_at(report, "enum") == [("大客户名录", "C4")]
    assert [f for f in report.findings if f.rule != "enum"] == []


def test_headers_renamed_reordered_and_extra_columns(tmp_path: Path) -> None:
    src = write(tmp_path)

    def drift(ws) -> None:
        amount = CONTRACTS["amount"].header
        col = [c.value for c in ws[1]].index(amount) + 1
        ws.cell(1, col).value = " " + amount.replace("（", "(").replace("）", ")") + " "
        ws.move_range("A1:A2", cols=20)  # the USCC column moves far right
        ws.cell(1, 12).value = "内部编号"
        ws.cell(2, 12).value = "X-1"

    path = edit(src, tmp_path / "drift.xlsx", CONTRACTS.sheet, drift)
    report = validate_file(path, SETTINGS)
    assert rules_at(report, "unknown_column") == [("合同台账", "L1")]  # its header cell
    assert rules_at(report, "normalized") == [("合同台账", "E1")]
    assert report.ok, [f.to_json() for f in report.findings]
    sub = read_book(load_raw(path))
    assert sub.sheets[CONTRACTS.id].letters["uscc"] == "U"


def test_numbers_and_dates_typed_as_text_are_fixed_and_reported(tmp_path: Path) -> None:
    rows = {
        "roster": [roster_row(listed_on="2024年3月1日", phone="１３８１２３４５６７８")],
        "contracts": [contract_row(amount="12,000", signed_on="2024/3/1")],
        "cards": [card_row()],
    }
    report = validate_file(write(tmp_path, rows), SETTINGS)
    assert rules_at(report, "normalized") == [
        ("合同台账", "D2"),
        ("合同台账", "E2"),
        ("大客户名录", "I2"),
        ("大客户名录", "K2"),
    ]
    assert report.ok


def test_missing_required_column_is_a_file_level_error(tmp_path: Path) -> None:
    src = write(tmp_path)

    def drop_project(ws) -> None:
        col = [c.value for c in ws[1]].index(CONTRACTS["project"].header) + 1
        ws.delete_cols(col)

    report = validate_file(edit(src, tmp_path / "m.xlsx", CONTRACTS.sheet, drop_project), SETTINGS)
    missing = [f for f in report.findings if f.rule == "missing_column"]
    assert [(f.sheet, f.column, f.cell) for f in missing] == [("合同台账", "项目名称", None)]
    assert [f.rule for f in report.findings] == ["missing_column"]


def test_trailing_blank_rows_and_spaces_are_not_data(tmp_path: Path) -> None:
    src = write(tmp_path)

    def pad(ws) -> None:
        ws.cell(30, 3).value = "   "
        ws.cell(31, 1).value = None

    report = validate_file(edit(src, tmp_path / "p.xlsx", ROSTER.sheet, pad), SETTINGS)
    assert report.findings == []


@pytest.mark.parametrize("formula", ["=1+1", "=SUM(E2:E3)"])
def test_a_real_formula_in_a_data_cell_is_reported(tmp_path: Path, formula: str) -> None:
    src = write(tmp_path)

    def put(ws) -> None:
        ws["L2"] = formula

    report = validate_file(edit(src, tmp_path / "f.xlsx", ROSTER.sheet, put), SETTINGS)
    assert rules_at(report, "formula_in_data") == [("大客户名录", "L2")]
