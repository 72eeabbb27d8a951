"""Typed rows of one submission: what the tolerant reader produces and the rules consume."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kam.findings import Finding
from kam.forms import INFO, Form
from kam.messages import Severity

if TYPE_CHECKING:  # the record module reads values with this module's display()
    from kam.prefill_record import PrefillRecord


@dataclass
class SheetData:
    """One form's rows: typed values, the original cells and where each column sits.

    `frame` and `raw` are indexed by the 1-based sheet row and have one column per data
    field id (all None when the column is absent, see `present`).
    """

    form: Form
    frame: pd.DataFrame
    raw: pd.DataFrame
    letters: dict[str, str]
    present: frozenset[str]
    invalid: dict[str, pd.Series] = field(default_factory=dict)
    formulas: dict[str, pd.Series] = field(default_factory=dict)
    cells: dict[str, tuple[int, str]] | None = None  # label/value sheets: field -> (row, cell)
    sheet: str = ""  # the sheet's name as found in the file
    # Where frame's columns are missing, by field id: the reader knows it from each column's
    # distinct values, cheaper than isna() over every cell (which fills in the rest).
    blank: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sheet:
            self.sheet = self.form.sheet

    def missing(self, field_id: str) -> pd.Series:
        """frame[field_id].isna(), computed once per column."""
        mask = self.blank.get(field_id)
        if mask is None or len(mask) != len(self.frame):
            mask = self.blank[field_id] = self.frame[field_id].isna().to_numpy()
        return pd.Series(mask, index=self.frame.index)

    def __len__(self) -> int:
        return len(self.frame)

    def locate(self, field_id: str, row: int) -> tuple[int | None, str | None]:
        """The sheet row and A1 cell of a value."""
        if self.cells is not None:
            r, cell = self.cells.get(field_id, (None, None))
            return r, cell
        letter = self.letters.get(field_id)
        return row, (f"{letter}{row}" if letter else None)

    def emit(
        self,
        file: str,
        rule: str,
        field_id: str,
        mask: pd.Series,
        params: dict[str, Any] | None = None,
        per_row: Callable[[int], dict[str, Any]] | None = None,
        severity: Severity | None = None,
    ) -> Iterator[Finding]:
        """One finding per True row of `mask` at this field's cell."""
        hit = mask.to_numpy(dtype=bool, na_value=False)
        if not hit.any():
            return
        f = self.form[field_id]
        # Positional numpy access: label lookups per finding dominate on files with many.
        rows = mask.index.to_numpy()[hit]
        values = self.raw[field_id].to_numpy(dtype=object)[hit]
        base = params or {}
        letter = self.letters.get(field_id) if self.cells is None else None
        sheet, column = self.sheet, f.header
        # Files with many findings (10,000 tier findings) spend most of the time here: text
        # values are shown as they are, and Finding gets its fields by position.
        shown = [v if type(v) is str else display(v) for v in values.tolist()]
        for row, value in zip(rows.tolist(), shown, strict=True):
            if self.cells is None:
                r, cell = row, (f"{letter}{row}" if letter else None)
            else:
                r, cell = self.locate(field_id, row)
            extra = per_row(row) if per_row else {}
            yield Finding(
                rule, file, sheet, r, column, cell, {"value": value, **base, **extra}, severity
            )


def display(value: object) -> str:
    """A raw cell value as the user would read it in a message."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value)


@dataclass
class Submission:
    """A branch submission read from one workbook, with the reader's own findings."""

    file: str
    sheets: dict[str, SheetData]  # form id -> rows (forms whose sheet was found)
    findings: list[Finding] = field(default_factory=list)
    unknown_sheets: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)  # Excel 4.0 macro sheets, not read
    sheet_order: list[str] = field(default_factory=list)  # the workbook's tabs, in tab order
    prefill: PrefillRecord | None = None  # what HQ pre-filled (DOMAIN §9.3), if anything

    def info(self, field_id: str) -> Any:
        """A value of the 报送信息 sheet (typed), or None."""
        data = self.sheets.get(INFO.id)
        if data is None or data.frame.empty:
            return None
        value = data.frame.iloc[0][field_id]
        return None if _missing(value) else value

    @property
    def unit(self) -> str | None:
        return self.info("unit")

    @property
    def quarter(self) -> str | None:
        q = self.info("quarter")
        data = self.sheets.get(INFO.id)
        if q is None or data is None:
            return None
        bad = data.invalid.get("quarter")
        return None if bad is not None and bool(bad.iloc[0]) else str(q)

    @property
    def as_of(self) -> dt.date | None:
        """The last day of 报送季度 (the evaluation date), when the quarter is readable."""
        q = self.quarter
        if q is None:
            return None
        year, n = int(q[:4]), int(q[-1])
        return (pd.Timestamp(year=year, month=n * 3, day=1) + pd.offsets.MonthEnd(0)).date()


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
