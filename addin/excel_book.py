"""The Book interface over a live Excel workbook (xlwings): what the ribbon buttons act on.

Thin on purpose: every decision lives in kam/ (marks, results rows, header lookup); this
module only moves values in and out of Excel with as few calls as it can.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlwings as xw

from kam.findings import Finding
from kam.io.book import (
    KAM_SHEETS,
    MARK_COLORS,
    MARK_HEADERS,
    MARKS_SHEET,
    RESULT_HEADERS,
    RESULTS_SHEET,
    MarkRecord,
    header_position,
    last_used_column,
    refuse_overwrite,
    result_rows,
    results_summary,
    sheet_ref,
)
from kam.io.raw import RawBook, RawSheet
from kam.messages import Severity

XL_SHEET_VERY_HIDDEN = 2
MSO_FILE_DIALOG_FOLDER_PICKER = 4


def caller_book() -> XlwingsBook:
    """The workbook whose button was pressed."""
    return XlwingsBook(xw.Book.caller())


def _hex(rgb: tuple[int, int, int] | None) -> str | None:
    return None if rgb is None else "{:02X}{:02X}{:02X}".format(*rgb)


def _grid(value: Any) -> list[list[Any]]:
    """A range's `.formula` (a str for one cell, nested tuples otherwise) as rows."""
    if isinstance(value, str) or value is None:
        return [[value]]
    return [list(row) if isinstance(row, (list, tuple)) else [row] for row in value]


def _text(value: object) -> object:
    """Text Excel would run as a formula gets the text prefix."""
    return "'" + value if isinstance(value, str) and value[:1] in "=+-@" else value


class XlwingsBook:
    """An open Excel workbook seen through xlwings."""

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        self.app = book.app  # still there after close()
        self.name = book.name
        full = Path(book.fullname)
        self.path: Path | None = full if full.is_absolute() else None  # a new book: "Book1"
        self._records: dict[tuple[str, str], MarkRecord] | None = None
        self._next_row = 2  # the next free row of _kam_marks (row 1 holds the headers)

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _used(self, sheet: xw.Sheet) -> xw.Range:
        last = sheet.used_range.last_cell  # the used range may not start at A1
        return sheet.range((1, 1), (last.row, last.column))

    def to_raw(self) -> RawBook:
        sheets: dict[str, RawSheet] = {}
        for sheet in self.book.sheets:
            if sheet.name in KAM_SHEETS:
                continue
            rng = self._used(sheet)
            rows = rng.options(ndim=2).value or []
            formulas = {
                (r, c)
                for r, row in enumerate(_grid(rng.formula))
                for c, f in enumerate(row)
                if isinstance(f, str) and f.startswith("=")
            }
            sheets[sheet.name] = RawSheet(sheet.name, [list(row) for row in rows], formulas)
        return RawBook(self.book.fullname, sheets)

    def _marks(self) -> dict[tuple[str, str], MarkRecord]:
        if self._records is None:
            self._records = {}
            if MARKS_SHEET in self.sheet_names():
                rows = self._used(self.book.sheets[MARKS_SHEET]).options(ndim=2).value or []
                self._next_row = max(2, len(rows) + 1)
                for row in rows:
                    rec = MarkRecord.from_row(row)
                    if rec is not None:
                        self._records.setdefault((rec.sheet, rec.cell), rec)
        return self._records

    def _marks_sheet(self) -> xw.Sheet:
        if MARKS_SHEET in self.sheet_names():
            return self.book.sheets[MARKS_SHEET]
        active = self.book.sheets.active
        ws = self.book.sheets.add(MARKS_SHEET, after=self.book.sheets[-1])
        ws["A1"].value = [list(MARK_HEADERS)]
        if sys.platform.startswith("win"):
            ws.api.Visible = XL_SHEET_VERY_HIDDEN
        else:
            ws.visible = False
        active.activate()
        return ws

    def mark(self, sheet: str, cell: str, severity: Severity, message: str) -> None:
        rng = self.book.sheets[sheet].range(cell)
        records = self._marks()
        if (sheet, cell) not in records:
            note = rng.note
            rec = MarkRecord(sheet, cell, {"rgb": _hex(rng.color)}, None)
            if note is not None:
                rec.comment = {"text": note.text, "author": ""}
            records[(sheet, cell)] = rec
            self._marks_sheet().range((self._next_row, 1)).value = [rec.row()]
            self._next_row += 1
        rng.color = "#" + MARK_COLORS[severity]
        if rng.note is None:
            rng.add_note(message)
        else:
            rng.note.text = message

    def clear_marks(self) -> int:
        records = self._marks()
        names = set(self.sheet_names())
        count = 0
        for (sheet, cell), rec in records.items():
            if sheet not in names:
                continue
            rng = self.book.sheets[sheet].range(cell)
            if _hex(rng.color) in MARK_COLORS.values():  # a colour the user chose since stays
                rgb = rec.fill.get("rgb")
                rng.color = "#" + rgb if rgb else None
            if rec.comment:
                if rng.note is None:
                    rng.add_note(rec.comment["text"])
                else:
                    rng.note.text = rec.comment["text"]
            elif rng.note is not None:
                rng.note.delete()
            count += 1
        records.clear()
        self._next_row = 2
        for name in (MARKS_SHEET, RESULTS_SHEET):
            if name in self.sheet_names():
                self.book.sheets[name].delete()
        return count

    def write_results(self, findings: Sequence[Finding], lang: str = "zh") -> None:
        if RESULTS_SHEET in self.sheet_names():
            self.book.sheets[RESULTS_SHEET].delete()
        ws = self.book.sheets.add(RESULTS_SHEET, after=self.book.sheets[-1])
        names = set(self.sheet_names())
        blank = [None] * (len(RESULT_HEADERS) - 1)  # xlwings writes rectangles
        data: list[list[object]] = [[results_summary(findings, self.name, lang), *blank]]
        data.append(list(RESULT_HEADERS))
        for f, row in zip(findings, result_rows(findings, lang), strict=True):
            cells: list[object] = [_text(v) for v in row]
            if f.sheet in names and f.cell:  # one bulk write: links as HYPERLINK formulas
                target = sheet_ref(f.sheet, f.cell).replace('"', '""')
                cells[1] = f'=HYPERLINK("#{target}","{f.cell}")'
            data.append(cells)
        ws["A1"].value = data
        ws["A1"].font.bold = True
        ws.range("A2:E2").font.bold = True
        ws.range("A:D").autofit()
        ws.activate()

    def write_column(self, sheet: str, header: str, values: Mapping[int, object]) -> None:
        ws = self.book.sheets[sheet]
        rows = self._used(ws).options(ndim=2).value or []
        header_row, col = header_position(rows, header)
        if not col:
            col = last_used_column(rows) + 1
            ws.range((header_row, col)).value = header
        run: list[int] = []
        for r in [*sorted(values), None]:  # one write per run of consecutive rows
            if run and r != run[-1] + 1:
                column = [[_text(values[i])] for i in run]
                ws.range((run[0], col), (run[-1], col)).value = column
                run = []
            if r is not None:
                run.append(r)

    def save_as(self, path: Path) -> None:
        refuse_overwrite(Path(path), Path(self.book.fullname))
        self.book.save(str(path))

    def alert(self, title: str, text: str) -> None:
        self.app.alert(text, title=title)

    def pick_folder(self, title: str) -> Path | None:
        if sys.platform == "darwin":  # Excel for Mac has no FileDialog object
            script = f'POSIX path of (choose folder with prompt "{title}")'
            done = subprocess.run(["osascript", "-e", script], capture_output=True, text=True)
            chosen = done.stdout.strip() if done.returncode == 0 else ""
        else:
            dialog = self.app.api.FileDialog(MSO_FILE_DIALOG_FOLDER_PICKER)
            dialog.Title = title
            chosen = dialog.SelectedItems(1) if dialog.Show() == -1 else ""
        return Path(chosen) if chosen else None

    def ask(self, title: str, prompt: str, default: str = "") -> str | None:
        if sys.platform == "darwin":  # Excel for Mac's InputBox is not reachable through appscript
            script = (
                f'text returned of (display dialog "{prompt}" default answer "{default}" '
                f'with title "{title}")'
            )
            done = subprocess.run(["osascript", "-e", script], capture_output=True, text=True)
            return done.stdout.strip() if done.returncode == 0 else None
        # Application.InputBox with Type:=2 (text) returns False when the user cancels.
        answer = self.app.api.InputBox(prompt, title, default, Type=2)
        return None if answer is False else str(answer).strip()

    def status(self, text: str) -> None:
        self.app.status_bar = text or False  # False hands the status bar back to Excel

    def has_unsaved_changes(self) -> bool:
        saved = self.book.api.saved.get() if sys.platform == "darwin" else self.book.api.Saved
        return not saved

    def close(self) -> None:
        self.book.close()

    def open_file(self, path: Path) -> None:
        self.app.books.open(str(path))
