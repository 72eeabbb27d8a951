"""Baselines of the merge benchmark: the analyst's pandas pipeline and the raw I/O floor.

naive_merge: what a competent analyst writes with pandas and openpyxl: one read_excel call
per file for 报送信息 and the six table sheets (the workbook is opened once per file, which
is faster than one call per sheet), provenance columns added, every sheet concatenated with
the previous consolidated workbook (the analyst's own, from the earlier quarter), exact
duplicate rows dropped, and every sheet written with to_excel(engine="openpyxl"). No
validation, no tiers, no risk, no ownership.

floor_merge: the fastest raw read of the same bytes (python-calamine, every needed sheet
to_python, nothing else) plus the fastest raw write of every row read (xlsxwriter with
constant_memory, each value written with the write_* call of its type, no formats).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine as calamine
import xlsxwriter

from kam.forms import INFO, TABLE_FORMS

TABLE_SHEETS = [f.sheet for f in TABLE_FORMS]
PROVENANCE = ("来源单位", "来源文件", "报送季度")
_FAST_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def naive_merge(files: list[Path], previous: Path | None, out: Path) -> int:
    """The pandas pipeline; returns the number of data rows written."""
    parts: dict[str, list[pd.DataFrame]] = {s: [] for s in TABLE_SHEETS}
    if previous is not None:
        old = pd.read_excel(previous, sheet_name=TABLE_SHEETS, engine="openpyxl")
        for sheet in TABLE_SHEETS:
            parts[sheet].append(old[sheet])
    for path in files:
        book = pd.read_excel(path, sheet_name=[INFO.sheet, *TABLE_SHEETS], engine="openpyxl")
        info = book[INFO.sheet]
        labels = dict(zip(info.iloc[:, 0], info.iloc[:, 1], strict=False))
        # 报送信息 is label/value pairs with no header row: its first pair became the header.
        labels[info.columns[0]] = info.columns[1]
        unit, quarter = labels.get(INFO["unit"].header), labels.get(INFO["quarter"].header)
        for sheet in TABLE_SHEETS:
            frame = book[sheet]
            frame[list(PROVENANCE)] = [unit, path.name, quarter]
            parts[sheet].append(frame)
    written = 0
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for sheet in TABLE_SHEETS:
            merged = pd.concat(parts[sheet], ignore_index=True).drop_duplicates()
            merged.to_excel(xw, sheet_name=sheet, index=False)
            written += len(merged)
    return written


def raw_read(path: Path, sheets: list[str] | None) -> dict[str, list[list[Any]]]:
    """Every named sheet (or every sheet) of a workbook as calamine's Python rows."""
    book = calamine.load_workbook(str(path))
    names = book.sheet_names if sheets is None else [s for s in sheets if s in book.sheet_names]
    return {name: book.get_sheet_by_name(name).to_python() for name in names}


def raw_write(out: Path, sheets: dict[str, list[list[Any]]]) -> int:
    """Every row of every sheet, each value with its typed write call; returns rows written."""
    wb = xlsxwriter.Workbook(str(out), _FAST_OPTIONS)
    rows = 0
    for name, grid in sheets.items():
        ws = wb.add_worksheet(name[:31])
        put_str, put_num, put_dt = ws.write_string, ws.write_number, ws.write_datetime
        for r, values in enumerate(grid):
            for c, v in enumerate(values):
                if v == "" or v is None:
                    continue
                if isinstance(v, str):
                    put_str(r, c, v)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, int | float):
                    put_num(r, c, v)
                elif isinstance(v, dt.datetime):
                    put_dt(r, c, v)
                elif isinstance(v, dt.date):
                    put_dt(r, c, dt.datetime.combine(v, dt.time()))
                else:
                    put_str(r, c, str(v))
        rows += len(grid)
    wb.close()
    return rows


def floor_merge(files: list[Path], previous: Path | None, out: Path) -> tuple[int, float]:
    """Raw read of every input, then raw write of every row read; (rows, read seconds)."""
    start = time.perf_counter()
    out_sheets: dict[str, list[list[Any]]] = {}
    if previous is not None:
        out_sheets.update(raw_read(previous, None))
    for path in files:
        book = raw_read(path, [INFO.sheet, *TABLE_SHEETS])
        for sheet in TABLE_SHEETS:
            grid = book.get(sheet, [])
            target = out_sheets.setdefault(sheet, grid[:1])
            target.extend(grid[1:])
    read_s = time.perf_counter() - start
    return raw_write(out, out_sheets), read_s
