"""The tolerant reader: a raw grid in, typed rows out, with a finding for every fix it made.

It copes with the template drift of DOMAIN §2.8 (renamed or reordered headers, title rows,
extra columns, trailing blanks, numbers and dates typed as text, full-width characters)
and reports each guess: `normalized` for a fixed value or header, `unknown_column` for an
ignored column, `missing_sheet` / `missing_column` for what it cannot find.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kam.findings import Finding, column_letter
from kam.forms import FORMS, INFO, Field, Form
from kam.io.files import DEFAULT_LIMITS, ReadLimits, open_sheets
from kam.io.raw import RawBook, RawSheet
from kam.messages import Severity
from kam.normalize import Column, blank_mask, normalize
from kam.prefill_record import PREFILL_SHEET, PrefillRecord
from kam.submission import SheetData, Submission, display

HEADER_SCAN_ROWS = 10
"""How far down a title block may push the header row."""

_SPACE_RE = re.compile(r"[\s*＊]+")


def norm_name(text: object) -> str:
    """A header or sheet name reduced for matching: NFKC, no spaces or asterisks, lower."""
    if not isinstance(text, str):
        return ""
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _header_index(form: Form) -> dict[str, Field]:
    index: dict[str, Field] = {}
    for f in form.fields:
        for name in (f.header, *f.aliases):
            index[norm_name(name)] = f
    return index


HEADER_INDEX: dict[str, dict[str, Field]] = {form.id: _header_index(form) for form in FORMS}
FORM_BY_NAME: dict[str, Form] = {norm_name(form.sheet): form for form in FORMS}


def read_book(raw: RawBook) -> Submission:
    """Type every form sheet of a raw workbook; never raises on bad content."""
    return read_arriving(raw.file, list(raw.sheets), iter(raw.sheets.values()))


def read_file(path: Path, limits: ReadLimits = DEFAULT_LIMITS, file: str = "") -> Submission:
    """Read and type a submission file: each sheet is typed while the others are still read.

    file names it in findings (default: its base name). Raises UnreadableFileError.
    """
    with open_sheets(path, limits) as stream:
        sub = read_arriving(file or stream.file, stream.names, stream.sheets)
        sub.skipped_sheets = list(stream.skipped)
        return sub


def read_arriving(file: str, names: list[str], sheets: Iterator[RawSheet]) -> Submission:
    """Type sheets as they arrive, in any order; the result is read_book's for those sheets.

    names lists the workbook's sheets in tab order. When two names match one form, the last
    is read (as in a dict by name), or the last of them that arrived.
    """
    wanted = {norm_name(name): name for name in names}
    arrived: list[str] = []
    spare: dict[str, RawSheet] = {}  # a sheet matching a form whose wanted one may not come
    done: dict[str, tuple[str, tuple[SheetData, list[Finding]]]] = {}
    prefill = PrefillRecord()
    for sheet in sheets:
        if sheet.name == PREFILL_SHEET:  # what HQ pre-filled, not a form (DOMAIN §9.3)
            prefill = PrefillRecord.from_rows(sheet.rows)
            continue
        arrived.append(sheet.name)
        form = FORM_BY_NAME.get(norm_name(sheet.name))
        if form is None:
            continue
        if wanted[norm_name(sheet.name)] == sheet.name:
            done[form.id] = sheet.name, _read_sheet(file, form, sheet)
        else:
            spare[sheet.name] = sheet
    order = {name: i for i, name in enumerate(names)}
    for name in sorted(spare, key=order.__getitem__):
        form = FORM_BY_NAME[norm_name(name)]
        if form.id not in done or order[done[form.id][0]] < order[name]:
            done[form.id] = name, _read_sheet(file, form, spare[name])
    sub = Submission(file=file, sheets={}, sheet_order=list(names), prefill=prefill)
    for form in FORMS:
        if form.id not in done:
            sub.findings.append(Finding("missing_sheet", file, sheet=form.sheet))
            continue
        data, findings = done[form.id][1]
        sub.sheets[form.id] = data
        sub.findings.extend(findings)
    matched = {name for name, _ in done.values()}
    sub.unknown_sheets = [n for n in sorted(arrived, key=order.__getitem__) if n not in matched]
    return sub


def _read_sheet(file: str, form: Form, sheet: RawSheet) -> tuple[SheetData, list[Finding]]:
    return (_read_pairs if form.pairs else _read_table)(file, form, sheet)


def _read_pairs(file: str, form: Form, sheet: RawSheet) -> tuple[SheetData, list[Finding]]:
    """A label/value sheet: labels in column A, values in column B."""
    index = HEADER_INDEX[form.id]
    cells: dict[str, tuple[int, str]] = {}
    values: dict[str, Any] = {}
    findings: list[Finding] = []
    for r, row in enumerate(sheet.top(200)):
        label = row[0] if row else None
        f = index.get(norm_name(label))
        if f is None or f.id in cells:
            continue
        cells[f.id] = (r + 1, f"B{r + 1}")
        values[f.id] = row[1] if len(row) > 1 else None
    for f in form.fields:
        if f.id not in cells:
            findings.append(Finding("missing_column", file, sheet=sheet.name, column=f.header))
    raw = pd.DataFrame([{f.id: values.get(f.id) for f in form.fields}], dtype=object)
    formula_cells = {(cells[fid][0] - 1, 1) for fid in cells} & sheet.formulas
    formula_ids = {fid for fid, (r, _) in cells.items() if (r - 1, 1) in formula_cells}
    data, fixed = _typed(form, raw, sheet.name, letters={}, present=frozenset(cells), cells=cells)
    data.formulas = {fid: pd.Series([True], index=raw.index) for fid in formula_ids}
    findings.extend(_fixes(file, data, fixed))
    return data, findings


def _find_header(form: Form, rows: list[list[Any]]) -> tuple[int, int]:
    """The 0-based header row (the one matching most headers) and how many it matched."""
    index = HEADER_INDEX[form.id]
    best, best_hits = 0, 0
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len({index[n].id for n in map(norm_name, row) if n in index})
        if hits > best_hits:
            best, best_hits = r, hits
    return best, best_hits


def _table_parts(sheet: RawSheet, h: int, hits: int) -> tuple[list[Any], pd.DataFrame]:
    """The header row's cells and the rows below it (columns 0, 1, ...) of a table sheet."""
    if sheet.native_columns:  # rectangular: no row lists needed
        cols = sheet.columns
        header = [c[h] for c in cols] if hits and sheet.height else []
        if sheet.height <= h + 1:
            return header, pd.DataFrame()
        return header, pd.DataFrame({i: _body(c[h + 1 :]) for i, c in enumerate(cols)})
    rows = sheet.rows
    header = rows[h] if rows and hits else []
    body = pd.DataFrame(rows[h + 1 :], dtype=object) if len(rows) > h + 1 else pd.DataFrame()
    return header, body


def _body(values: np.ndarray | pd.Categorical) -> pd.Series:
    """A column under the header: object cells, or a text column kept categorical."""
    if isinstance(values, pd.Categorical):
        return pd.Series(values, copy=False)
    return pd.Series(values, dtype=object, copy=False)


def _read_table(file: str, form: Form, sheet: RawSheet) -> tuple[SheetData, list[Finding]]:
    h, hits = _find_header(form, sheet.top(HEADER_SCAN_ROWS))
    header, body = _table_parts(sheet, h, hits)
    index = HEADER_INDEX[form.id]
    positions: dict[str, int] = {}
    findings: list[Finding] = []
    body.index = pd.RangeIndex(h + 2, h + 2 + len(body))
    for c, text in enumerate(header):
        f = index.get(norm_name(text))
        letter = column_letter(c)
        if f is not None and f.id not in positions:
            positions[f.id] = c
            if isinstance(text, str) and text != f.header:
                findings.append(_header_fix(file, sheet.name, f, text, f"{letter}{h + 1}"))
        elif not _blank(text) or (c in body.columns and not blank_mask(body[c]).all()):
            findings.append(
                Finding(
                    "unknown_column",
                    file,
                    sheet=sheet.name,
                    row=h + 1,
                    column=display(text) or "（无表头）",
                    cell=f"{letter}{h + 1}",  # the header cell: where the user looks and fixes
                    params={"letter": letter},
                )
            )
    for f in form.data_fields:
        if f.id not in positions:
            findings.append(
                Finding(
                    "missing_column",
                    file,
                    sheet=sheet.name,
                    column=f.header,
                    severity=None if f.required else Severity.WARNING,
                )
            )
    data_ids = [f.id for f in form.data_fields]
    raw = pd.DataFrame(index=body.index, columns=data_ids, dtype=object)
    for fid in data_ids:
        if fid in positions and positions[fid] in body.columns:
            raw[fid] = body[positions[fid]]
    letters = {fid: column_letter(c) for fid, c in positions.items()}
    present = frozenset(fid for fid in positions if fid in data_ids)
    data, fixed = _typed(form, raw, sheet.name, letters=letters, present=present, cells=None)
    _drop_blank_rows(data, fixed)
    raw = data.raw
    data.formulas = _formula_masks(sheet, raw.index, positions, present)
    findings.extend(_fixes(file, data, fixed))
    return data, findings


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value != value


def _drop_blank_rows(data: SheetData, fixed: dict[str, Column]) -> None:
    """Keep only rows with a value (or an unreadable cell) in some data column."""
    if data.frame.empty:
        return
    keep = np.zeros(len(data.frame), dtype=bool)
    for blank in data.blank.values():  # absent columns are all blank: not in data.blank
        keep |= ~blank
    for mask in data.invalid.values():
        keep |= mask.to_numpy()
    if keep.all():
        return
    data.frame, data.raw = data.frame[keep], data.raw[keep]
    data.invalid = {k: m[keep] for k, m in data.invalid.items()}
    data.blank = {k: m[keep] for k, m in data.blank.items()}
    for col in fixed.values():
        col.fixed = col.fixed[keep]


def _formula_masks(
    sheet: RawSheet, index: pd.Index, positions: dict[str, int], present: frozenset[str]
) -> dict[str, pd.Series]:
    """Per data field, which kept rows hold a formula cell."""
    if not sheet.formulas:
        return {}
    masks: dict[str, pd.Series] = {}
    by_col: dict[int, set[int]] = {}
    for r, c in sheet.formulas:
        by_col.setdefault(c, set()).add(r + 1)
    for fid in present:
        rows_with = by_col.get(positions[fid])
        if rows_with:
            mask = index.isin(list(rows_with))
            if mask.any():
                masks[fid] = pd.Series(mask, index=index)
    return masks


def _typed(
    form: Form,
    raw: pd.DataFrame,
    sheet: str,
    *,
    letters: dict[str, str],
    present: frozenset[str],
    cells: dict[str, tuple[int, str]] | None,
) -> tuple[SheetData, dict[str, Column]]:
    """Normalize every present column; also return the columns in which values were fixed."""
    data = SheetData(
        form, pd.DataFrame(index=raw.index), raw, letters, present, cells=cells, sheet=sheet
    )
    columns: dict[str, pd.Series] = {}
    fixed: dict[str, Column] = {}
    for f in form.data_fields:
        col = normalize(f.kind, raw[f.id]) if f.id in present else None
        if col is None:
            columns[f.id] = pd.Series(None, index=raw.index, dtype=object)
            continue
        columns[f.id] = col.values
        data.blank[f.id] = col.blanks()
        if col.invalid.any():
            data.invalid[f.id] = col.invalid
        if col.fixed.any():
            fixed[f.id] = col
    data.frame = pd.DataFrame(columns, index=raw.index)
    return data, fixed


def _fixes(file: str, data: SheetData, fixed: dict[str, Column]) -> Iterator[Finding]:
    """A `normalized` finding for every value the normalizer changed."""
    for fid, col in fixed.items():
        mask = col.fixed.reindex(data.frame.index, fill_value=False)
        yield from data.emit(
            file,
            "normalized",
            fid,
            mask,
            per_row=lambda row, fid=fid, col=col: {
                "fixed": display(data.frame.at[row, fid]),
                "why": col.reasons(row),
                "why_en": col.reasons(row, "en"),
            },
        )


def _header_fix(file: str, sheet: str, f: Field, text: str, cell: str) -> Finding:
    return Finding(
        "normalized",
        file,
        sheet=sheet,
        row=int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        column=f.header,
        cell=cell,
        params={
            "value": text,
            "fixed": f.header,
            "why": "表头按模板识别",
            "why_en": "header matched",
        },
    )


__all__ = ["HEADER_INDEX", "INFO", "norm_name", "read_book"]
