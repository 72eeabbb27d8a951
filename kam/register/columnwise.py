"""A function of each cell of a column, called once per distinct value (not once per cell).

A register column repeats its values (units, quarters, files, enum words, dates), and the
register over many quarters holds hundreds of thousands of rows: per-cell Python calls were
most of a merge. pandas.factorize hashes the column in C; the function runs on the distinct
values only and numpy takes the results back to every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

_BOOLS = frozenset({bool, np.bool_})
_NUMBERS = frozenset({int, float, np.int64, np.float64, np.int32, np.float32})
_SCALARS = _BOOLS | _NUMBERS


def factorized(column: np.ndarray) -> tuple[np.ndarray, np.ndarray, set[type]] | None:
    """(codes, distinct values, value types) of a column, blanks (None, NaN, NaT) coded -1.

    None when sharing is unsafe: a hash table takes True == 1 == 1.0 for one value, but a
    boolean is neither written nor shown as a number, and an int read back stays an int; or
    a value cannot be hashed.
    """
    try:
        kinds = set(map(type, column))
        if len(kinds & _SCALARS) > 1:
            return None
        codes, uniques = pd.factorize(column)
    except TypeError:
        return None
    return codes, np.asarray(uniques, dtype=object), kinds


def per_distinct(column: np.ndarray, fn: Callable[[object], object], blank: object) -> np.ndarray:
    """fn of every cell as an object array; `blank` for None, NaN and NaT."""
    found = factorized(column)
    if found is None:
        return np.array([blank if _is_blank(v) else fn(v) for v in column] + [None], dtype=object)[
            :-1
        ]  # (the extra None keeps numpy from making a 2-D array of tuples)
    codes, uniques, _ = found
    made = np.array([*map(fn, uniques), blank, None], dtype=object)[:-1]
    return made[codes]


def joined(columns: Sequence[np.ndarray], sep: str, n: int) -> np.ndarray:
    """The columns' texts joined row by row with `sep` (n rows; "" when there is no column)."""
    if not columns:
        return np.full(n, "", dtype=object)
    # One join per row: adding column after column would copy the growing text each time.
    parts = [c.tolist() for c in columns]
    return np.array([*map(sep.join, zip(*parts, strict=True)), None], dtype=object)[:-1]


def _is_blank(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def as_grid(rows: Sequence[Sequence[object]], blank: object = "") -> np.ndarray:
    """Rows of cells as one 2-D object array (short rows padded with `blank`)."""
    width = max(map(len, rows), default=0)
    grid = np.full((len(rows), width), blank, dtype=object)
    if all(len(r) == width for r in rows):
        if rows:
            grid[:, :] = rows  # numpy copies the references in C, not a statement per cell
        return grid
    for i, r in enumerate(rows):
        grid[i, : len(r)] = r
    return grid
