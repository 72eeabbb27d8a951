"""Template drift: how branch staff edit the template, applied to a written file with openpyxl.

Drift is not a mistake: the tolerant reader copes with all of it and reports a
`normalized` info per fixed value or header and an `unknown_column` warning per extra
column. Structural edits (title row, swapped or inserted columns) only touch sheets no
formula or defined name points into; the one deleted column (a planted `missing_column`)
moves the defined names that point at its sheet, as Excel would.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from kam.forms import FORMS_BY_ID, TABLE_FORMS, Form
from kam.reader import norm_name
from kam.sample.quarter import Draft, Row

FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
"""Half-width ASCII to full-width (what a Chinese IME in full-width mode types)."""
EXTRA_HEADER = "内部编号"


@dataclass(frozen=True)
class CellEdit:
    """A data cell retyped the way people type it; the reader turns it back (`normalized`)."""

    form: str  # form id
    index: int  # 0-based position of the row in BranchFile.rows[form]
    field: str
    value: object  # what the final file holds instead of the clean value


@dataclass
class Drift:
    """How a written file was edited away from the template (applied with openpyxl)."""

    title_rows: dict[str, str] = field(default_factory=dict)  # form id -> merged title
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # form -> field -> text
    swaps: dict[str, tuple[str, str]] = field(default_factory=dict)  # form -> two fields
    # form id -> (header, field id it follows, one value per data row)
    extra_columns: dict[str, tuple[str, str, tuple[object, ...]]] = field(default_factory=dict)
    cells: list[CellEdit] = field(default_factory=list)
    removed_sheets: list[str] = field(default_factory=list)  # form ids (planted missing_sheet)
    removed_columns: dict[str, list[str]] = field(default_factory=dict)  # form -> field ids

    def header_row(self, form_id: str) -> int:
        """The 1-based header row of a table sheet in the final file."""
        return 2 if form_id in self.title_rows else 1


# --- planning -------------------------------------------------------------------------


def _amount_text(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:,.2f}"


def _edit(
    rng: random.Random,
    d: Drift,
    draft: Draft,
    form: str,
    fid: str,
    retype: Callable[[object], object],
    ok: Callable[[Row], bool] | None = None,
) -> None:
    """Retype one free cell of `form` (a row no mistake or other edit sits on)."""
    rows = draft.rows[form]
    free = [
        i
        for i, r in enumerate(rows)
        if id(r) not in draft.busy
        and str(r.get("uscc")) not in draft.fixed
        and r.get(fid) is not None
        and (ok is None or ok(r))
    ]
    if not free:
        return
    i = rng.choice(free)
    draft.busy.add(id(rows[i]))
    d.cells.append(CellEdit(form, i, fid, retype(rows[i][fid])))


def _slash(day: object) -> str:
    return f"{day.year}/{day.month}/{day.day}"  # type: ignore[attr-defined]


def _chinese(day: object) -> str:
    return f"{day.year}年{day.month}月{day.day}日"  # type: ignore[attr-defined]


def _title(draft: Draft, form: str) -> str:
    year, q = draft.settings.quarter.split("Q")
    return f"{draft.branch}{FORMS_BY_ID[form].sheet}（{year}年第{q}季度）"


def _extra(draft: Draft, form: str, after: str) -> tuple[str, str, tuple[object, ...]]:
    values = tuple(f"NB-{draft.prefix}-{i + 1:04d}" for i in range(len(draft.rows[form])))
    return EXTRA_HEADER, after, values


def _ledger(rng: random.Random, d: Drift, draft: Draft) -> None:
    """The contract ledger's keeper: own headers, amounts and dates typed as text."""
    d.headers["contracts"] = {
        "amount": "单项合同额(万元)",
        "project": " 项目名称 ",
        "receivable": "应收余额 (万元)",
    }
    big = lambda r: isinstance(r["amount"], float) and r["amount"] >= 1000  # noqa: E731
    for _ in range(3):
        _edit(rng, d, draft, "contracts", "amount", _amount_text, big)
    _edit(rng, d, draft, "contracts", "signed_on", _slash)
    _edit(rng, d, draft, "contracts", "signed_on", _chinese)
    d.title_rows["reception"] = _title(draft, "reception")
    d.extra_columns["maintenance"] = _extra(draft, "maintenance", "date")


def _roster(rng: random.Random, d: Drift, draft: Draft) -> None:
    """The roster's editor: lower-case codes, full-width digits, stray spaces."""
    d.headers["roster"] = {"uscc": "统一社会信用代码 "}
    lettered = lambda r: str(r["uscc"]).lower() != r["uscc"]  # noqa: E731
    _edit(rng, d, draft, "roster", "uscc", lambda v: str(v).lower(), lettered)
    _edit(rng, d, draft, "roster", "phone", lambda v: str(v).translate(FULLWIDTH))
    _edit(rng, d, draft, "roster", "owner", lambda v: f"{v}  ")
    _edit(rng, d, draft, "roster", "name", lambda v: f" {v}")
    d.swaps["cards"] = ("contact", "contact_title")
    _edit(rng, d, draft, "reception", "date", _slash)
    _edit(rng, d, draft, "reception", "date", _chinese)


def _logs(rng: random.Random, d: Drift, draft: Draft) -> None:
    """The log keeper: a title above the maintenance log, columns moved and added."""
    d.title_rows["maintenance"] = _title(draft, "maintenance")
    d.swaps["maintenance"] = ("summary", "issue")
    d.headers["maintenance"] = {"closed": "是否闭环 "}
    d.extra_columns["cards"] = _extra(draft, "cards", "uscc")
    _edit(rng, d, draft, "contracts", "uscc", lambda v: str(v).translate(FULLWIDTH))
    _edit(rng, d, draft, "maintenance", "date", _chinese)
    _edit(rng, d, draft, "cards", "contact_phone", lambda v: f" {v}")


RECIPES = (_ledger, _roster, _logs)


def plan_drift(rng: random.Random, draft: Draft, recipe: int | None) -> Drift | None:
    """The drift of one file: a recipe's edits plus the sheets/columns a mistake removed."""
    if recipe is None and not draft.removed_sheets and not draft.removed_columns:
        return None
    d = Drift(
        removed_sheets=list(draft.removed_sheets), removed_columns=dict(draft.removed_columns)
    )
    if recipe is not None:
        RECIPES[recipe % len(RECIPES)](rng, d, draft)
    d.cells.sort(key=lambda e: (e.form, e.index))
    return d


# --- applying -------------------------------------------------------------------------


def _columns(ws: Worksheet, form: Form, header_row: int = 1) -> dict[str, int]:
    """Field id -> 1-based column, read from the header row as it stands."""
    index = {norm_name(f.header): f.id for f in form.fields}
    out: dict[str, int] = {}
    for cell in ws[header_row]:
        fid = index.get(norm_name(cell.value))
        if fid is not None and fid not in out:
            out[fid] = cell.column
    return out


def _shift_validations(ws: Worksheet, at_col: int = 0, cols: int = 0, rows: int = 0) -> None:
    """Move dropdowns and checks with their cells (openpyxl's insert/delete does not)."""
    for dv in ws.data_validations.dataValidation:
        ranges = []
        for r in dv.sqref.ranges:
            if cols < 0 and r.min_col == at_col:
                continue  # the deleted column's own rule goes with it
            shift = cols if r.min_col >= at_col else 0
            moved = CellRange(r.coord)
            moved.shift(col_shift=shift, row_shift=rows)
            ranges.append(moved.coord)
        dv.sqref = MultiCellRange(ranges)
    ws.data_validations.dataValidation = [
        dv for dv in ws.data_validations.dataValidation if dv.sqref.ranges
    ]


def _shift_names(wb: Workbook, sheet: str, at_col: int, cols: int) -> None:
    """Defined names pointing into `sheet` follow a deleted or inserted column."""
    quoted = "'" + sheet + "'!"

    def move(m: re.Match[str]) -> str:
        col = CellRange(f"{m.group(1)}1").min_col
        return "$" + get_column_letter(col + cols if col >= at_col else col) + "$"

    for name in wb.defined_names.values():
        if quoted in name.attr_text:
            name.attr_text = re.sub(r"\$([A-Z]{1,3})\$", move, name.attr_text)


def _swap(ws: Worksheet, a: int, b: int) -> None:
    """Two columns trade places: values, types, styles and header notes."""
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        x, y = row[a - 1], row[b - 1]
        types = x.data_type, y.data_type
        x.value, y.value = y.value, x.value
        # The value setter would turn text such as "=SUM(1,2)" into a formula: keep the types.
        y.data_type, x.data_type = types
        x.font, y.font = copy(y.font), copy(x.font)
        x.fill, y.fill = copy(y.fill), copy(x.fill)
        x.border, y.border = copy(y.border), copy(x.border)
        x.alignment, y.alignment = copy(y.alignment), copy(x.alignment)
        x.number_format, y.number_format = y.number_format, x.number_format
        x.comment, y.comment = (copy(c) if c else None for c in (y.comment, x.comment))
    for col in (a, b):
        ws.column_dimensions[get_column_letter(col)].width = 16


def _apply_sheet(wb: Workbook, ws: Worksheet, form: Form, d: Drift) -> None:
    for fid in d.removed_columns.get(form.id, []):
        col = _columns(ws, form)[fid]
        ws.delete_cols(col)
        _shift_validations(ws, col, -1)
        _shift_names(wb, ws.title, col + 1, -1)
    cols = _columns(ws, form)
    for e in d.cells:
        if e.form == form.id:
            ws.cell(row=2 + e.index, column=cols[e.field]).value = e.value
    if form.id in d.swaps:
        a, b = d.swaps[form.id]
        _swap(ws, cols[a], cols[b])
    if form.id in d.extra_columns:
        header, after, values = d.extra_columns[form.id]
        col = _columns(ws, form)[after] + 1
        ws.insert_cols(col)
        _shift_validations(ws, col, 1)
        ws.cell(row=1, column=col).value = header
        for i, value in enumerate(values):
            ws.cell(row=2 + i, column=col).value = value
    cols = _columns(ws, form)
    for fid, text in d.headers.get(form.id, {}).items():
        ws.cell(row=1, column=cols[fid]).value = text
    if form.id in d.title_rows:
        ws.insert_rows(1)
        _shift_validations(ws, rows=1)
        title = ws.cell(row=1, column=1)
        title.value = d.title_rows[form.id]
        title.font = Font(bold=True, size=14)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ws.max_column)
        ws.freeze_panes = "A3"
        ws.print_title_rows = "2:2"
    if ws.auto_filter.ref:
        last = CellRange(ws.auto_filter.ref).max_row + (1 if form.id in d.title_rows else 0)
        top = d.header_row(form.id)
        ws.auto_filter.ref = f"A{top}:{get_column_letter(ws.max_column)}{last}"


def apply_drift(src: Path, dst: Path, d: Drift) -> Path:
    """Write `dst`: the workbook `src` as the branch edited it."""
    wb = load_workbook(src)
    for form_id in d.removed_sheets:
        del wb[FORMS_BY_ID[form_id].sheet]
    for form in TABLE_FORMS:
        if form.sheet in wb.sheetnames:
            _apply_sheet(wb, wb[form.sheet], form, d)
    wb.save(dst)
    return dst
