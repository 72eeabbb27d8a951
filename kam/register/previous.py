"""The previous register read back with python-calamine: stored rows, HQ edits, sources.

The register is regenerated on every merge, never loaded and saved: this module only
reads what the next register is built from (the merged rows with their provenance, every
ownership claim, the rejections, the per-file hashes and HQ's own columns).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import python_calamine as calamine

from kam.errors import UnreadableFileError
from kam.forms import Form
from kam.fs import cause_zh
from kam.insight.trends import HISTORY
from kam.reader import norm_name
from kam.register import store
from kam.register.columns import (
    CONFLICTS,
    HQ_FIELDS,
    REG_BY_SOURCE,
    REG_ROSTER,
    REJECTED,
    SHEET,
    SOURCES,
    SUBMISSIONS,
)
from kam.register.columnwise import as_grid, per_distinct
from kam.register.edits import EditScan, scan_sheet
from kam.register.fingerprints import FINGERPRINT_SHEET, SPECS, Fingerprints, names_a_sheet
from kam.register.repeats import REPEATS
from kam.register.seal import sealed_cache

YES = "是"


@dataclass
class Previous:
    """What the next register keeps from the current one."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # source form id -> rows
    refused: pd.DataFrame = field(default_factory=pd.DataFrame)  # 拒收记录
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)  # _kam_sources
    submissions: pd.DataFrame = field(default_factory=pd.DataFrame)  # 报送情况 as written
    hq: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> HQ column values
    view: pd.DataFrame = field(default_factory=pd.DataFrame)  # the old 集团大客户名录 rows
    edits: EditScan = field(default_factory=EditScan)  # HQ's hand edits found in it
    path: Path | None = None  # the register file read (its archive files lie beside it)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # _kam_trends, append-only
    repeats: pd.DataFrame = field(default_factory=pd.DataFrame)  # _kam_repeats (repeats.py)

    @property
    def exists(self) -> bool:
        return not self.view.empty or not self.sources.empty


def read_previous(path: Path) -> Previous:
    """The current register's content, or an empty Previous when there is none yet."""
    if not path.exists():
        return Previous(path=path)
    cache = sealed_cache(path)
    prev = _from_cache(path, cache) if cache else None
    if prev is None:
        # A sealed register needs no scan: only the sheets its content is built from are read.
        names = _CONTENT_SHEETS if cache is not None else None
        prev = previous_from_sheets(register_sheets(path, names), sealed=cache is not None)
    prev.path = path
    return prev


def _from_cache(path: Path, digest: str) -> Previous | None:
    """The content of a sealed register from its cache (kam.register.store), if it has one."""
    data = store.load(path, digest)
    frames = store.decode(data) if data is not None else None
    if frames is None:
        return None
    prev = previous_from_frames(frames)
    # Fingerprints.from_rows() would find some: the register has its fingerprints.
    names = frames[FINGERPRINT_SHEET][SHEET.id]
    prev.edits = EditScan(known=any(map(names_a_sheet, names)))
    return prev


def read_sources(path: Path) -> pd.DataFrame:
    """The register's record of merged files (_kam_sources) alone; empty without a register."""
    if not path.exists():
        return _typed(None, SOURCES)
    return _typed(register_sheets(path, {SOURCES.sheet}).get(SOURCES.sheet), SOURCES)


def register_sheets(path: Path, names: Iterable[str] | None = None) -> dict[str, list[list[Any]]]:
    """The cell grids of a register's sheets (those of `names` it has, or all of them)."""
    try:
        book = calamine.load_workbook(str(path))
        wanted = book.sheet_names if names is None else set(names) & set(book.sheet_names)
        if len(wanted) < 2:
            return {name: _frame(book, name) for name in wanted}
        # python-calamine parses a sheet without holding the GIL: two threads, each with its
        # own workbook, parse two sheets at once.
        books = threading.local()

        def grid(name: str) -> list[list[Any]]:
            if not hasattr(books, "book"):
                books.book = calamine.load_workbook(str(path))
            return _frame(books.book, name)

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kam-register") as pool:
            return dict(zip(wanted, pool.map(grid, wanted), strict=True))
    except Exception as exc:  # calamine raises its own and OS errors; all mean the same here
        raise UnreadableFileError(
            str(path),
            f"集团名录无法读取（{cause_zh(exc, '文件已损坏或不是工作簿')}）；"
            "请从 history 文件夹恢复上一版后重试",
            f"the register cannot be read ({exc}); restore it from history/",
        ) from exc


def previous_from_sheets(sheets: dict[str, list[list[Any]]], sealed: bool = False) -> Previous:
    """A register's content from its sheets' cell grids (a file, or a book open in Excel);
    `sealed`: its worksheets are unchanged since kam wrote them (kam.register.seal)."""
    prev = previous_from_frames(
        {form.sheet: _typed(sheets.get(form.sheet), form) for form in _TYPED_FORMS}
    )
    prev.edits = scan_edits(sheets, sealed)
    return prev


def previous_from_frames(frames: dict[str, pd.DataFrame]) -> Previous:
    """A register's content from its sheets typed by their forms (edits not looked for)."""
    prev = Previous()
    view = frames[REG_ROSTER.sheet]
    prev.view = view
    prev.hq = _hq_values(view)
    roster_cols = [f.id for f in REG_BY_SOURCE["roster"].fields if f.id in _CLAIM_IDS]
    claims = [view[roster_cols]] if len(view) else []
    conflicts = frames[CONFLICTS.sheet]
    if len(conflicts):
        losers = conflicts[conflicts["adopted"] != YES]
        claims.append(losers.reindex(columns=roster_cols))
    prev.tables["roster"] = (
        pd.concat(claims, ignore_index=True) if claims else pd.DataFrame(columns=roster_cols)
    )
    for source_id, form in REG_BY_SOURCE.items():
        if source_id != "roster":
            prev.tables[source_id] = frames[form.sheet]
    prev.refused = frames[REJECTED.sheet]
    prev.sources = frames[SOURCES.sheet]
    prev.submissions = frames[SUBMISSIONS.sheet]
    prev.history = frames[HISTORY.sheet]
    prev.repeats = frames[REPEATS.sheet]
    return prev


def scan_edits(sheets: dict[str, list[list[Any]]], sealed: bool = False) -> EditScan:
    """HQ's hand edits, found by the fingerprints the register was written with (none when
    the register is sealed: no program saved it since)."""
    scan = EditScan()
    stored = Fingerprints.from_rows(sheets.get(FINGERPRINT_SHEET) or [])
    if stored is None:
        return scan
    scan.known = True
    if sealed:
        return scan
    for name in SPECS:
        grid = sheets.get(name)
        if grid:
            scan_sheet(scan, name, grid, stored)
    return scan


_CONTENT_SHEETS = frozenset(form.sheet for form in store.FORMS)
"""The sheets previous_from_sheets() reads besides the scanned ones (风险清单, 季度变更 and the
report sheets are rebuilt by every merge)."""
_TYPED_FORMS = tuple(form for form in store.FORMS if form.sheet != FINGERPRINT_SHEET)

_CLAIM_IDS = frozenset(
    {f.id for f in REG_ROSTER.fields}
    - {"calc_tier", "tier_reason", "tier_check"}
    - {"risk_level", "risk_reason"}
    - {f.id for f in HQ_FIELDS}
)
"""The roster columns that make up a claim (computed and HQ columns are rebuilt)."""


def _frame(book: calamine.CalamineWorkbook, name: str) -> list[list[Any]]:
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _typed(rows: list[list[Any]] | None, form: Form) -> pd.DataFrame:
    """A register sheet as a frame with one column per field id, header matched by name."""
    ids = [f.id for f in form.fields]
    if not rows:
        return pd.DataFrame(columns=ids, dtype=object)
    by_header = {norm_name(f.header): f.id for f in form.fields}
    positions = {
        by_header[norm_name(h)]: c for c, h in enumerate(rows[0]) if norm_name(h) in by_header
    }
    grid = as_grid(rows[1:])
    body = grid[((grid != "") & (grid != None)).any(axis=1)]  # noqa: E711 (element-wise)
    data = {fid: _column(body, positions.get(fid)) for fid in ids}
    return pd.DataFrame(data, columns=ids, dtype=object)


def _column(body: np.ndarray, c: int | None) -> np.ndarray:
    """Column c of the rows as plain values (None where blank); _plain once per distinct value."""
    if c is None or c >= body.shape[1]:
        return np.full(len(body), None, dtype=object)
    return per_distinct(body[:, c], _plain, None)


def _hq_values(view: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """HQ's columns of each customer that has one filled (column-wise, not a lookup per cell)."""
    ids = [f.id for f in HQ_FIELDS]
    cells = view[ids].to_numpy(dtype=object)
    filled = ((cells != None) & (cells != "")).any(axis=1)  # noqa: E711 (element-wise)
    keys = view["uscc"].to_numpy(dtype=object)
    return {
        keys[i]: dict(zip(ids, cells[i].tolist(), strict=True))
        for i in np.flatnonzero(filled)
        if isinstance(keys[i], str) and keys[i]
    }


def _plain(value: object) -> object:
    """calamine's empty string means a blank cell; dates come back as date or datetime."""
    if value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value
