"""The raw grid a workbook yields before the tolerant reader types it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


class RawSheet:
    """A sheet's cell values from A1 (as rows or as columns), and where its formula cells are.

    A sheet is built from either: a file read column-wise gives `columns` (equal-length
    object arrays, or pd.Categorical for long text and date columns), a live book or
    openpyxl gives `rows`; the other form is made on demand.
    """

    def __init__(
        self,
        name: str,
        rows: list[list[Any]] | None = None,
        formulas: set[tuple[int, int]] | None = None,
        *,
        columns: list[np.ndarray | pd.Categorical] | None = None,
    ) -> None:
        self.name = name
        self.formulas: set[tuple[int, int]] = formulas if formulas is not None else set()
        self._columns = columns
        self._rows = [] if rows is None and columns is None else rows

    @property
    def native_columns(self) -> bool:
        """Whether the sheet was read column-wise (a rectangular grid)."""
        return self._columns is not None

    @property
    def rows(self) -> list[list[Any]]:
        """Row lists from A1 (0-based row r is sheet row r + 1)."""
        if self._rows is None:
            cols = self._columns or []
            self._rows = [list(row) for row in zip(*cols, strict=True)]
        return self._rows

    @property
    def columns(self) -> list[np.ndarray | pd.Categorical]:
        """One array per column from A, as long as the sheet is high (None pads).

        Object arrays, except long text and date columns read from a file: pd.Categorical.
        """
        if self._columns is None:
            frame = pd.DataFrame(self.rows, dtype=object)
            self._columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
        return self._columns

    @property
    def height(self) -> int:
        if self._columns is not None:
            return len(self._columns[0]) if self._columns else 0
        return len(self.rows)

    def top(self, n: int) -> list[list[Any]]:
        """The first n rows (cheap for a column-wise sheet)."""
        if self._rows is not None:
            return self._rows[:n]
        return [list(row) for row in zip(*(c[:n] for c in self.columns), strict=True)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawSheet):
            return NotImplemented
        return (self.name, self.rows, self.formulas) == (other.name, other.rows, other.formulas)

    def __repr__(self) -> str:
        return f"RawSheet({self.name!r}, {self.height} rows, {len(self.formulas)} formulas)"


@dataclass
class RawBook:
    """Every sheet of one workbook (a file or an open Excel book), in tab order."""

    file: str
    sheets: dict[str, RawSheet]
