"""The 校验本簿 and 清除标记 buttons, run on a workbook file through the Book interface."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from builders import card_row, contract_row, raw_book, roster_row, write_book

from kam.errors import UnreadableFileError
from kam.forms import ROSTER
from kam.io.book import MARK_COLORS, MARKS_SHEET, RESULTS_SHEET
from kam.io.openpyxl_book import OpenpyxlBook
from kam.messages import Severity
from kam.validate import ValidateSettings
from macros import clear_marks, validate

SETTINGS = ValidateSettings(today=dt.date(2026, 10, 15))
BLUE = "0070C0"


def open_book(tmp_path: Path, **over: object) -> OpenpyxlBook:
    rows = {"roster": [roster_row(**over)], "cards": [card_row()], "contracts": [contract_row()]}
    raw = raw_book(rows=rows)
    path = write_book(tmp_path / "分公司.xlsx", raw)
    wb = openpyxl.load_workbook(path)
    wb[ROSTER.sheet]["C2"].fill = openpyxl.styles.PatternFill(fill_type="solid", fgColor=BLUE)
    wb.save(path)
    return OpenpyxlBook.open(path)


def test_validate_button_marks_lists_and_reports(tmp_path: Path) -> None:
    book = open_book(tmp_path, nature="私营企业")
    validate.run(book, SETTINGS)
    ((title, text),) = book.alerts
    assert title == "校验本簿"
    assert "错误 1 个" in text and "校验结果" in text
    cell = book.wb[ROSTER.sheet]["C2"]
    assert cell.fill.fgColor.rgb.endswith(MARK_COLORS[Severity.ERROR])
    assert "私营企业" in cell.comment.text
    results = book.wb[RESULTS_SHEET]
    assert (results["C3"].value, results["F3"].value) == ("选项不符", "enum")
    assert results["B3"].hyperlink.location.endswith("!C2")

    book.save_as(tmp_path / "marked.xlsx")
    again = OpenpyxlBook.open(tmp_path / "marked.xlsx")
    clear_marks.run(again)
    assert again.alerts == [("清除标记", "已清除 1 个单元格的标记，原有底色与批注已恢复。")]
    cell = again.wb[ROSTER.sheet]["C2"]
    assert cell.fill.fgColor.rgb.endswith(BLUE) and cell.comment is None
    assert {RESULTS_SHEET, MARKS_SHEET}.isdisjoint(again.wb.sheetnames)
    clear_marks.run(again)
    assert again.alerts[-1] == ("清除标记", "没有需要清除的标记。")


def test_validate_button_on_a_clean_book_says_so(tmp_path: Path) -> None:
    book = open_book(tmp_path)
    validate.run(book, SETTINGS)
    assert book.alerts == [("校验本簿", "校验通过：未发现问题。")]
    assert book.wb[ROSTER.sheet]["C2"].comment is None
    assert book.wb[RESULTS_SHEET].max_row == 2  # summary and headers only


def test_errors_become_a_chinese_message_not_a_traceback(tmp_path: Path) -> None:
    class Broken(OpenpyxlBook):
        def to_raw(self):
            raise UnreadableFileError(self.name, "文件已损坏")

    book = open_book(tmp_path)
    broken = Broken(book.path, book.wb)
    validate.run(broken, SETTINGS)
    assert broken.alerts == [("校验本簿", f"校验本簿未完成：{book.name}: 文件已损坏")]

    class Buggy(OpenpyxlBook):
        def clear_marks(self) -> int:
            raise ZeroDivisionError("boom")

    buggy = Buggy(book.path, book.wb)
    clear_marks.run(buggy)
    assert "内部错误" in buggy.alerts[0][1] and "Traceback" not in buggy.alerts[0][1]
