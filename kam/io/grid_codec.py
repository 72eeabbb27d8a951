"""A sheet's rows packed for the trip from the reading child process to the caller.

Pickling a list of lists costs about a microsecond per distinct string on each side, more
than calamine takes to parse it. Packed, all strings travel as one joined string (split
in C on arrival) and numbers and dates as arrays, so only the rare other values are
pickled one by one.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass, field
from itertools import chain, compress, count, repeat
from operator import is_not
from typing import Any

# Characters that cannot occur in a cell read from XML, or practically never do.
SEPARATORS = ("\x00", "\x1f", "\ufdd0", "\ufdd1")


@dataclass(frozen=True)
class PackedGrid:
    """Rows of one sheet as columns of plain arrays; unpack() rebuilds the list of lists."""

    height: int
    width: int
    sep: str = ""
    text: str = ""  # every cell's string joined by sep ("" for a cell that is not a str)
    float_at: array = field(default_factory=lambda: array("q"))
    floats: array = field(default_factory=lambda: array("d"))
    date_at: array = field(default_factory=lambda: array("q"))
    date_ordinals: array = field(default_factory=lambda: array("q"))
    other_at: array = field(default_factory=lambda: array("q"))
    others: list[Any] = field(default_factory=list)
    rows: list[list[Any]] | None = None  # fallback when every separator occurs in the data


def pack_grid(rows: list[list[Any]]) -> PackedGrid:
    """Pack a rectangular grid (short rows are padded with "")."""
    height = len(rows)
    width = max(map(len, rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    flat: list[Any] = list(chain.from_iterable(rows))
    # Positions of the non-str cells, found without a Python-level loop over every cell.
    odd = list(compress(count(), map(is_not, map(type, flat), repeat(str))))
    float_at, floats = array("q"), array("d")
    date_at, ordinals = array("q"), array("q")
    other_at, others = array("q"), []
    strings = flat.copy() if odd else flat
    for pos in odd:
        value = flat[pos]
        strings[pos] = ""
        kind = type(value)
        if kind is float:
            float_at.append(pos)
            floats.append(value)
        elif kind is dt.date:
            date_at.append(pos)
            ordinals.append(value.toordinal())
        else:
            other_at.append(pos)
            others.append(value)
    for sep in SEPARATORS:
        text = sep.join(strings)
        if text.count(sep) == max(len(strings) - 1, 0):
            return PackedGrid(
                height, width, sep, text, float_at, floats, date_at, ordinals, other_at, others
            )
    return PackedGrid(height, width, rows=rows)


def unpack_grid(grid: PackedGrid) -> list[list[Any]]:
    """The list of rows pack_grid was given."""
    if grid.rows is not None:
        return grid.rows
    if grid.width == 0:
        return [[] for _ in range(grid.height)]
    flat: list[Any] = grid.text.split(grid.sep)
    for pos, value in zip(grid.float_at, grid.floats.tolist(), strict=True):
        flat[pos] = value
    for pos, day in zip(grid.date_at, map(dt.date.fromordinal, grid.date_ordinals), strict=True):
        flat[pos] = day
    for pos, value in zip(grid.other_at, grid.others, strict=True):
        flat[pos] = value
    width = grid.width
    return [flat[i : i + width] for i in range(0, len(flat), width)]
