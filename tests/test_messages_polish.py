"""Messages that help: one finding per mistake, in the workbook's order, saying why and where."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from builders import DEFAULT_ROWS, GOOD_USCC, INFO_OK, contract_row, roster_row
from test_cli import kam

from kam.template import Layout, write_submission
from kam.validate import ValidateSettings, validate_file

SMALL = Layout(data_rows=5)
ON = ValidateSettings(today=dt.date(2026, 10, 15))


def by_cell(path: Path) -> dict[tuple[str | None, str | None], list]:
    found: dict = {}
    for f in validate_file(path, ON).findings:
        found.setdefault((f.sheet, f.cell), []).append(f)
    return found


def test_uscc_stored_as_a_number_is_a_type_error_alone(tmp_path: Path) -> None:
    rows = {**DEFAULT_ROWS, "roster": [roster_row(uscc=913501001000100430.0)]}
    path = write_submission(tmp_path / "n.xlsx", INFO_OK, rows, layout=SMALL)
    (only,) = by_cell(path)[("大客户名录", "B2")]
    assert only.rule == "type" and "文本" in only.message()


def test_checksum_message_does_not_reveal_the_check_character(tmp_path: Path) -> None:
    wrong = GOOD_USCC[:-1] + "4"  # the right check character is 3
    rows = {
        **DEFAULT_ROWS,
        "roster": [roster_row(uscc=wrong)],
        "contracts": [contract_row(uscc=wrong)],
        "cards": [],
    }
    path = write_submission(tmp_path / "c.xlsx", INFO_OK, rows, layout=SMALL)
    (f,) = [f for f in by_cell(path)[("大客户名录", "B2")] if f.rule == "uscc_checksum"]
    zh, en = f.message(), f.message("en")
    assert "18 位" in zh and "营业执照" in zh and "all 18 characters" in en
    assert "应为" not in zh and "3" not in zh.replace(wrong, "")


def test_formula_message_quotes_the_formula_and_no_required_on_that_cell(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "f.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    wb = openpyxl.load_workbook(path)
    wb["合同台账"]["C2"] = "=SUM(1,1)"  # 项目名称 (required): openpyxl leaves no cached value
    wb.save(path)
    (f,) = by_cell(path)[("合同台账", "C2")]
    assert f.rule == "formula_in_data" and "“=SUM(1,1)”" in f.message()


def test_conditional_required_says_why(tmp_path: Path) -> None:
    entry = {
        "date": dt.datetime(2026, 9, 1),
        "uscc": GOOD_USCC,
        "method": "拜访",
        "unit": "华东分公司",
        "summary": "季度拜访",
        "owner": "李强",
        "closed": "是",
    }
    rows = {**DEFAULT_ROWS, "maintenance": [entry]}
    path = write_submission(tmp_path / "r.xlsx", INFO_OK, rows, layout=SMALL)
    (f,) = [f for f in validate_file(path, ON).findings if f.rule == "required"]
    assert f.column == "闭环日期" and "因为是否闭环为“是”" in f.message()
    assert "because '是否闭环' is '是'" in f.message("en")


def test_unknown_column_marks_its_header_cell(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "u.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    wb = openpyxl.load_workbook(path)
    wb["合同台账"]["Z1"] = "对接人"
    wb.save(path)
    (f,) = by_cell(path)[("合同台账", "Z1")]
    assert (f.rule, f.row, f.column) == ("unknown_column", 1, "对接人")


def test_findings_follow_the_workbooks_sheet_order(tmp_path: Path) -> None:
    rows = {**DEFAULT_ROWS, "roster": [roster_row(phone="12345")]}
    rows["contracts"] = [contract_row(amount=-1.0)]
    path = write_submission(tmp_path / "o.xlsx", INFO_OK, rows, layout=SMALL)
    wb = openpyxl.load_workbook(path)
    wb.move_sheet("合同台账", offset=-wb.sheetnames.index("合同台账"))  # now the first tab
    wb.save(path)
    sheets = [f.sheet for f in validate_file(path, ON).sorted() if f.sheet]
    assert sheets.index("合同台账") < sheets.index("大客户名录")  # code-point order is reversed
    done = kam("validate", str(path), "--json", "--today", "2026-10-15")
    listed = [f["sheet"] for f in json.loads(done.stdout)["findings"] if f["sheet"]]
    assert listed == sheets


def test_formula_cell_without_value_is_blank_not_nan(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "nan.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    wb = openpyxl.load_workbook(path)
    wb["大客户名录"]["A2"] = '=CONCAT("甲","乙")'  # 客户名称 with no cached value
    wb.save(path)
    done = kam("tier", str(path))
    assert done.returncode == 0, done.stderr
    assert "nan" not in done.stdout.lower()
    quoted = [f.message() for f in validate_file(path, ON).findings if f.cell == "A2"]
    assert quoted == [
        '单元格含公式或会被 Excel 当作公式的文本（“=CONCAT("甲","乙")”），请改为直接填写数值或文字'
    ]
