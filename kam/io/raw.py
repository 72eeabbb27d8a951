"""The raw grid a workbook yields before the tolerant reader types it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawSheet:
    """A sheet's cell values from A1, and where its formula cells are."""

    name: str
    rows: list[list[Any]]
    formulas: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)


@dataclass
class RawBook:
    """Every sheet of one workbook (a file or an open Excel book), in tab order."""

    file: str
    sheets: dict[str, RawSheet]
