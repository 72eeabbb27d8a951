"""The small workbook interface the Excel buttons use, and what its implementations share.

The same macro code runs on a live Excel book (addin/excel_book.py, xlwings) and on a file
(kam/io/openpyxl_book.py, used by `kam validate --annotate` and by the tests). Marks are
reversible: each marked cell's original fill and comment are kept in the very hidden sheet
`_kam_marks` so that 清除标记 (and the next run) can put them back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kam.errors import KamError, UsageError
from kam.findings import Finding
from kam.io.raw import RawBook
from kam.messages import Severity
from kam.reader import HEADER_SCAN_ROWS, norm_name
from kam.rule_names import rule_name

RESULTS_SHEET = "校验结果"
MARKS_SHEET = "_kam_marks"
KAM_SHEETS = frozenset({RESULTS_SHEET, MARKS_SHEET})
"""Sheets KAM writes into a user's book; never read back as data."""

AUTHOR = "KAM"
_ERR, _WARN, _INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MARK_COLORS: dict[Severity, str] = {_ERR: "FFC7CE", _WARN: "FFEB9C", _INFO: "DDEBF7"}
RANK: dict[Severity, int] = {_INFO: 0, _WARN: 1, _ERR: 2}
LEVEL_TEXT: dict[str, dict[Severity, str]] = {
    "zh": {_ERR: "错误", _WARN: "警告", _INFO: "提示"},
    "en": {_ERR: "error", _WARN: "warning", _INFO: "info"},
}
RESULT_HEADERS = ("工作表", "单元格", "规则", "级别", "说明", "规则编号")
MARK_HEADERS = ("工作表", "单元格", "原填充", "原批注")
MACRO_SUFFIXES = frozenset({".xlsm", ".xltm"})
FILE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})


class OverwriteSourceError(UsageError):
    """Refused: the annotated copy would replace the user's own file."""


class BookWriteError(KamError, OSError):
    """The annotated copy could not be written (folder missing, file open in Excel)."""


class Book(Protocol):
    """The one workbook interface the macros use (a file or a live Excel book)."""

    name: str
    path: Path | None  # the file the book was opened from (None: a new book, never saved)

    def to_raw(self) -> RawBook: ...
    def sheet_names(self) -> list[str]: ...
    def mark(self, sheet: str, cell: str, severity: Severity, message: str) -> None: ...
    def clear_marks(self) -> int: ...
    def write_results(self, findings: Sequence[Finding], lang: str = "zh") -> None: ...
    def write_column(self, sheet: str, header: str, values: Mapping[int, object]) -> None: ...
    def save_as(self, path: Path) -> None: ...
    def alert(self, title: str, text: str) -> None: ...
    # What the 合并报送 button needs of the application around the book:
    def pick_folder(self, title: str) -> Path | None: ...  # None: the user cancelled
    def ask(self, title: str, prompt: str, default: str = "") -> str | None: ...  # None: cancel
    def status(self, text: str) -> None: ...  # the status bar; "" gives it back to Excel
    def has_unsaved_changes(self) -> bool: ...
    def close(self) -> None: ...
    def open_file(self, path: Path) -> None: ...  # open a workbook beside this one


@dataclass
class MarkRecord:
    """A marked cell and what it looked like before: `fill` and `comment` are JSON-able."""

    sheet: str
    cell: str
    fill: dict[str, Any]  # {"rgb": "RRGGBB" | None, "xml": openpyxl <fill> (files only)}
    comment: dict[str, Any] | None  # {"text", "author"} of the user's own comment, if any

    def row(self) -> list[str]:
        comment = "" if self.comment is None else json.dumps(self.comment, ensure_ascii=False)
        return [self.sheet, self.cell, json.dumps(self.fill, ensure_ascii=False), comment]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> MarkRecord | None:
        """A record from a `_kam_marks` row; None for a header or a damaged row."""
        cells = [*row, None, None, None, None][:4]
        if not cells[0] or not cells[1] or tuple(cells) == MARK_HEADERS:
            return None
        try:
            fill = json.loads(cells[2]) if cells[2] else {}
            comment = json.loads(cells[3]) if cells[3] else None
        except (TypeError, ValueError):
            return None
        return cls(str(cells[0]), str(cells[1]), fill, comment)


def sheet_ref(sheet: str, cell: str) -> str:
    """An A1 reference usable in a link or formula: 'It''s'!C7."""
    return "'" + sheet.replace("'", "''") + "'!" + cell


def results_summary(findings: Sequence[Finding], file: str, lang: str = "zh") -> str:
    """The first line of the 校验结果 sheet (and the gist of the macro's message box)."""
    e, w, i = (sum(1 for f in findings if f.level is s) for s in (_ERR, _WARN, _INFO))
    if lang == "en":
        return f"{file}: {e} errors, {w} warnings, {i} infos"
    verdict = "有错误，请按下表逐项改正" if e else "未发现错误"
    return f"{file}：错误 {e} 个，警告 {w} 个，提示 {i} 个 —— {verdict}"


def result_rows(findings: Sequence[Finding], lang: str = "zh") -> list[list[str]]:
    """One row per finding: 工作表, 单元格, 规则 (its name), 级别, 说明, 规则编号 (the id)."""
    levels = LEVEL_TEXT.get(lang, LEVEL_TEXT["zh"])
    return [
        [
            f.sheet or "",
            f.cell or "",
            rule_name(f.rule, lang),
            levels[f.level],
            f.message(lang),
            f.rule,
        ]
        for f in findings
    ]


def header_position(rows: Sequence[Sequence[Any]], header: str) -> tuple[int, int]:
    """1-based (header row, column) for `header`; column 0 when the header is absent.

    The header row is the row holding `header`, else the first of the top rows with the
    most filled cells (a title row above the header has one).
    """
    top = rows[:HEADER_SCAN_ROWS]
    wanted = norm_name(header)
    for r, row in enumerate(top):
        for c, value in enumerate(row):
            if norm_name(value) == wanted:
                return r + 1, c + 1
    filled = [sum(1 for v in row if v not in (None, "")) for row in top]
    best = max(range(len(filled)), key=lambda r: (filled[r], -r)) if filled else 0
    return best + 1, 0


def last_used_column(rows: Sequence[Sequence[Any]]) -> int:
    """1-based index of the right-most column holding a value anywhere (0 if none)."""
    last = 0
    for row in rows:
        for c in range(len(row), last, -1):
            if row[c - 1] not in (None, ""):
                last = c
                break
    return last


def refuse_overwrite(out: Path, src: Path) -> None:
    """Raise OverwriteSourceError when `out` is `src` (also through links or case)."""
    if out.exists() and src.exists():
        same = os.path.samefile(out, src)
    else:
        same = os.path.normcase(out.resolve()) == os.path.normcase(src.resolve())
    if same:
        hint = f"{src.stem}_标注{src.suffix}"
        raise OverwriteSourceError(f"标注副本不能覆盖原文件 {src}，请另选一个文件名（例如 {hint}）")
