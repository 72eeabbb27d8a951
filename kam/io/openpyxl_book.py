"""The Book interface over a workbook file (openpyxl): `kam validate --annotate` and the tests."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.fills import Fill
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import fromstring, tostring

from kam.errors import UnreadableFileError, UsageError
from kam.findings import Finding
from kam.fs import os_cause, private_dir, set_mode_like
from kam.injection import starts_formula
from kam.io.book import (
    AUTHOR,
    FILE_SUFFIXES,
    KAM_SHEETS,
    MACRO_SUFFIXES,
    MARK_COLORS,
    MARK_HEADERS,
    MARKS_SHEET,
    RESULT_HEADERS,
    RESULTS_SHEET,
    BookWriteError,
    MarkRecord,
    header_position,
    last_used_column,
    refuse_overwrite,
    result_rows,
    results_summary,
    sheet_ref,
)  # fmt: skip
from kam.io.raw import RawBook, RawSheet
from kam.messages import Severity


def _solid_rgb(fill: Fill) -> str | None:
    """RRGGBB of a solid fill given as RGB (cells return style proxies, not Fill objects)."""
    if getattr(fill, "patternType", None) != "solid":
        return None
    rgb = fill.fgColor.rgb
    return rgb[-6:].upper() if isinstance(rgb, str) else None


def _kam_fill(fill: Fill) -> bool:
    return _solid_rgb(fill) in MARK_COLORS.values()


def _fill_record(fill: Fill) -> dict[str, Any]:
    return {"rgb": _solid_rgb(fill), "xml": tostring(fill.to_tree()).decode()}


def _fill_from_record(record: dict[str, Any]) -> Fill:
    if record.get("xml"):
        return Fill.from_tree(fromstring(record["xml"])) or PatternFill()
    if record.get("rgb"):
        return PatternFill(fill_type="solid", fgColor=record["rgb"])
    return PatternFill()


def _plain(value: Any) -> Any:
    """A cell value as data: rich text flattened to its string."""
    if value is None or isinstance(value, (int, float, str, dt.date, dt.time, dt.timedelta)):
        return value
    return str(value)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = last_used_column(rows)
    return [row[:width] for row in rows]


class OpenpyxlBook:
    """A workbook file opened with openpyxl (styles, comments and links are kept)."""

    def __init__(self, path: Path, wb: Workbook) -> None:
        self.path = path
        self.name = path.name
        self.wb = wb
        self.alerts: list[tuple[str, str]] = []  # what a macro would have shown
        # Files have no application around them: the tests set and read these instead.
        self.folder_choice: Path | None = None  # what pick_folder() answers
        self.answers: list[str | None] = []  # what ask() answers, in turn (None: cancel)
        self.questions: list[tuple[str, str]] = []  # (prompt, default) of each ask()
        self.statuses: list[str] = []
        self.unsaved = False
        self.closed = False
        self.opened: list[Path] = []
        self._cached: dict[str, dict[tuple[int, int], Any]] | None = None
        self._records: dict[tuple[str, str], MarkRecord] | None = None

    @classmethod
    def open(cls, path: Path) -> OpenpyxlBook:
        """Load a .xlsx/.xlsm file for reading and annotating (VBA kept for .xlsm)."""
        path = Path(path)
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise UnreadableFileError(
                str(path),
                f"只能标注 .xlsx / .xlsm 文件，“{path.suffix}”格式请先在 Excel 中另存为 .xlsx",
                f"only .xlsx/.xlsm can be annotated, not '{path.suffix}'",
            )
        try:
            wb = load_workbook(path, keep_vba=path.suffix.lower() in MACRO_SUFFIXES, rich_text=True)
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise UnreadableFileError(
                str(path), f"openpyxl 无法打开该文件（{type(exc).__name__}）"
            ) from exc
        return cls(path, wb)

    # -- reading ---------------------------------------------------------------------

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def to_raw(self) -> RawBook:
        """Every user sheet's values from A1 (cached values for formulas) and formula cells."""
        sheets: dict[str, RawSheet] = {}
        for ws in self.wb.worksheets:
            if ws.title in KAM_SHEETS:
                continue
            rows: list[list[Any]] = []
            formulas: set[tuple[int, int]] = set()
            for r, cells in enumerate(ws.iter_rows(min_row=1, min_col=1)):
                row: list[Any] = []
                for c, cell in enumerate(cells):
                    value = cell.value
                    if _is_formula(cell.value, cell.data_type):
                        formulas.add((r, c))
                        value = self._cached_value(ws.title, r, c)
                    row.append(_plain(value))
                rows.append(row)
            sheets[ws.title] = RawSheet(ws.title, _trim(rows), formulas)
        return RawBook(str(self.path), sheets)

    def _cached_value(self, sheet: str, r: int, c: int) -> Any:
        """The value Excel last computed for a formula cell (None if never computed)."""
        if self._cached is None:
            self._cached = {}
            cached = load_workbook(self.path, data_only=True, read_only=True)
            try:
                for ws in cached.worksheets:
                    grid = self._cached.setdefault(ws.title, {})
                    for i, values in enumerate(ws.iter_rows(values_only=True)):
                        for j, v in enumerate(values):
                            if v is not None:
                                grid[(i, j)] = v
            finally:
                cached.close()
        return self._cached.get(sheet, {}).get((r, c))

    # -- marks -----------------------------------------------------------------------

    def _marks(self) -> dict[tuple[str, str], MarkRecord]:
        if self._records is None:
            self._records = {}
            if MARKS_SHEET in self.wb.sheetnames:
                for row in self.wb[MARKS_SHEET].iter_rows(values_only=True):
                    rec = MarkRecord.from_row(row)
                    if rec is not None:
                        self._records.setdefault((rec.sheet, rec.cell), rec)
        return self._records

    def _store_mark(self, rec: MarkRecord) -> None:
        if MARKS_SHEET not in self.wb.sheetnames:
            ws = self.wb.create_sheet(MARKS_SHEET)
            ws.sheet_state = "veryHidden"
            ws.append(list(MARK_HEADERS))
        self.wb[MARKS_SHEET].append(rec.row())

    def _cell(self, sheet: str, cell: str) -> Any:
        ws = self.wb[sheet]
        target = ws[cell]
        if isinstance(target, MergedCell):  # only a merge's top-left cell can hold a mark
            for rng in ws.merged_cells.ranges:
                if target.coordinate in rng:
                    return ws.cell(rng.min_row, rng.min_col)
        return target

    def mark(self, sheet: str, cell: str, severity: Severity, message: str) -> None:
        """Fill the cell by severity and put the message in its comment (author KAM)."""
        target = self._cell(sheet, cell)
        key = (sheet, target.coordinate)
        records = self._marks()
        if key not in records:  # a cell marked twice keeps its true original
            old = target.comment
            own = None if old is None or old.author == AUTHOR else old
            records[key] = MarkRecord(
                sheet,
                target.coordinate,
                _fill_record(target.fill),
                None if own is None else {"text": own.text, "author": own.author},
            )
            self._store_mark(records[key])
        target.fill = PatternFill(fill_type="solid", fgColor=MARK_COLORS[severity])
        lines = message.count("\n") + 1 + len(message) // 24
        target.comment = Comment(message, AUTHOR, height=min(400, 24 + 16 * lines), width=300)

    def clear_marks(self) -> int:
        """Undo every KAM mark (fills, comments) and drop the 校验结果 sheet; cells cleared."""
        records = self._marks()
        cleared: set[tuple[str, str]] = set()
        for (sheet, coord), rec in records.items():
            if sheet not in self.wb.sheetnames:
                continue
            target = self.wb[sheet][coord]
            if _kam_fill(target.fill):  # a fill the user changed since is theirs to keep
                target.fill = _fill_from_record(rec.fill)
            if target.comment is not None and target.comment.author == AUTHOR:
                c = rec.comment
                target.comment = Comment(c["text"], c.get("author") or "") if c else None
            cleared.add((sheet, coord))
        for ws in self.wb.worksheets:  # KAM comments whose record was lost
            if ws.title in KAM_SHEETS:
                continue
            for row in ws.iter_rows():
                for cell in row:
                    if cell.comment is not None and cell.comment.author == AUTHOR:
                        cell.comment = None
                        cleared.add((ws.title, cell.coordinate))
        records.clear()
        active = self.wb.active.title if self.wb.active is not None else ""
        for name in (MARKS_SHEET, RESULTS_SHEET):
            if name in self.wb.sheetnames:
                del self.wb[name]
        visible = [ws for ws in self.wb.worksheets if ws.sheet_state == "visible"]
        keep = [ws for ws in visible if ws.title == active]
        self._select((keep or visible)[0])
        return len(cleared)

    def _select(self, ws: Worksheet) -> None:
        """Make `ws` the one active, selected tab (several selected tabs = grouped sheets)."""
        for sheet in self.wb.worksheets:
            sheet.sheet_view.tabSelected = False
        self.wb.active = self.wb.worksheets.index(ws)
        ws.sheet_view.tabSelected = True

    # -- writing ---------------------------------------------------------------------

    def write_results(self, findings: Sequence[Finding], lang: str = "zh") -> None:
        """A fresh 校验结果 sheet: summary line, then one linked row per finding."""
        if RESULTS_SHEET in self.wb.sheetnames:
            del self.wb[RESULTS_SHEET]
        ws = self.wb.create_sheet(RESULTS_SHEET)
        ws.append([results_summary(findings, self.name, lang)])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append(list(RESULT_HEADERS))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        names = set(self.wb.sheetnames)
        for f, row in zip(findings, result_rows(findings, lang), strict=True):
            ws.append(row)
            r = ws.max_row
            for cell in ws[r]:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    cell.data_type = "s"  # user text, never a formula
            ws.cell(r, 4).fill = PatternFill(fill_type="solid", fgColor=MARK_COLORS[f.level])
            if f.sheet in names and f.cell:
                link = ws.cell(r, 2)
                link.hyperlink = Hyperlink(ref=link.coordinate, location=sheet_ref(f.sheet, f.cell))
                link.font = Font(color="0563C1", underline="single")
        for letter, width in zip("ABCDEF", (16, 9, 14, 7, 90, 18), strict=True):
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A3"
        if findings:
            ws.auto_filter.ref = f"A2:F{ws.max_row}"
        self._select(ws)

    def write_column(self, sheet: str, header: str, values: Mapping[int, object]) -> None:
        """Write values (keyed by 1-based sheet row) under `header`, adding the column."""
        ws = self.wb[sheet]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        header_row, col = header_position(rows, header)
        if not col:
            col = last_used_column(rows) + 1
            ws.cell(header_row, col, header).font = Font(bold=True)
        for r, value in values.items():
            cell = ws.cell(r, col, value)
            if isinstance(value, str) and starts_formula(value):
                cell.data_type = "s"  # data, never a formula

    def save_as(self, path: Path) -> None:
        """Write the book to a new file; never over the file it was opened from."""
        path = Path(path)
        refuse_overwrite(path, self.path)
        suffix = path.suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise UsageError(f"标注副本 {path} 的扩展名应为 .xlsx 或 .xlsm")
        if suffix in MACRO_SUFFIXES and self.wb.vba_archive is None:
            raise UsageError(f"原文件不含宏，标注副本 {path} 请使用 .xlsx 扩展名")
        if suffix not in MACRO_SUFFIXES:
            self.wb.vba_archive = None  # an .xlsx that declares macros will not open in Excel
        self.wb.template = suffix in {".xltx", ".xltm"}
        self._quote_formula_text()
        try:
            with private_dir(path) as work:  # the copy follows the umask, like any new file
                tmp = work / path.name
                self.wb.save(tmp)
                set_mode_like(tmp, None)
                os.replace(tmp, path)
        except OSError as exc:
            cause = os_cause(exc)
            raise BookWriteError(
                f"无法写入 {path}：{cause.zh}。{cause.advice}；如该文件已在 Excel 中打开，请先关闭"
            ) from exc

    def _quote_formula_text(self) -> None:
        """Give every text cell Excel could run as a formula the quote prefix (kam.injection).

        Only the cells the sheet holds (openpyxl's cell store), never the blank rest."""
        for ws in self.wb.worksheets:
            for cell in getattr(ws, "_cells", {}).values():
                value = cell.value
                if cell.data_type == "s" and isinstance(value, str) and starts_formula(value):
                    cell.quotePrefix = True

    def alert(self, title: str, text: str) -> None:
        """Files have no screen: remember the message (the tests read it)."""
        self.alerts.append((title, text))

    def pick_folder(self, title: str) -> Path | None:
        return self.folder_choice

    def ask(self, title: str, prompt: str, default: str = "") -> str | None:
        self.questions.append((prompt, default))
        return self.answers.pop(0) if self.answers else default

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def has_unsaved_changes(self) -> bool:
        return self.unsaved

    def close(self) -> None:
        self.closed = True

    def open_file(self, path: Path) -> None:
        self.opened.append(Path(path))

    @property
    def keeps_vba(self) -> bool:
        return self.wb.vba_archive is not None


def _is_formula(value: Any, data_type: str) -> bool:
    if isinstance(value, (ArrayFormula, DataTableFormula)):
        return True
    return data_type == "f" and isinstance(value, str) and value.startswith("=")
