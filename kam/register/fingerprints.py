"""Row fingerprints the register carries, so the next merge can tell which rows HQ edited.

Every table sheet's rows are hashed when written (over the values as written) and the
hashes are kept in the very hidden sheet `_kam_rows`, many per cell. The next merge hashes
the rows it reads back the same way: a row whose hash was never written was edited (or
added) by hand, a written hash that is not read back belongs to a row HQ edited or deleted.
Hashes are independent of row order and column order, so sorting or moving columns is not
an edit. On the 集团大客户名录 sheet the recomputed columns are hashed apart, per customer,
so that an edit there can be told from an edit of the branch's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import numbers
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam.forms import Field, Form
from kam.register.columns import (
    CHANGES,
    CONFLICTS,
    HQ_FIELDS,
    REG_ROSTER,
    REG_TABLES,
    REJECTED,
    RISK_LIST,
    SHEET,
    SUBMISSIONS,
)

FINGERPRINT_SHEET = "_kam_rows"
PART = Field("part", "类别", width=10)
CODES = Field("codes", "指纹", width=60)
FINGERPRINTS = Form(
    "fingerprints",
    FINGERPRINT_SHEET,
    (SHEET, PART, CODES),
    help="隐藏表：写出名录时各行的指纹（用于识别 HQ 的手工修改）",
)
ROWS, COMPUTED = "rows", "computed"
_PER_CELL = 1800  # 17 characters each: well under Excel's 32,767-character cell limit
# A computed entry is key=5 short hashes (about 55 characters): a quarter as many per cell.
_EPOCH = dt.datetime(1970, 1, 1)

COMPUTED_IDS: tuple[str, ...] = (
    "calc_tier",
    "tier_reason",
    "tier_check",
    "risk_level",
    "risk_reason",
)
"""The 集团大客户名录 columns every merge recomputes (an edit there cannot survive)."""
_HQ_IDS = frozenset(f.id for f in HQ_FIELDS)


@dataclass(frozen=True)
class Spec:
    """Which columns of a sheet make its row hash (and, for the roster, its computed hash)."""

    form: Form
    row_ids: tuple[str, ...]
    computed_ids: tuple[str, ...] = ()
    key_id: str | None = None

    def positions(self, ids: Sequence[str]) -> tuple[list[int], list[int], int | None]:
        """Indexes into a row laid out by `ids` of the row, computed and key columns."""
        at = {fid: i for i, fid in enumerate(ids)}
        key = at.get(self.key_id) if self.key_id else None
        return [at[f] for f in self.row_ids], [at[f] for f in self.computed_ids], key


def _spec(form: Form) -> Spec:
    return Spec(form, tuple(f.id for f in form.fields))


_ROSTER_SPEC = Spec(
    REG_ROSTER,
    tuple(f.id for f in REG_ROSTER.fields if f.id not in _HQ_IDS and f.id not in COMPUTED_IDS),
    COMPUTED_IDS,
    "uscc",
)
SPECS: dict[str, Spec] = {
    s.form.sheet: s
    for s in (
        _ROSTER_SPEC,
        *(_spec(f) for f in REG_TABLES),
        *(_spec(f) for f in (RISK_LIST, CONFLICTS, REJECTED, SUBMISSIONS, CHANGES)),
    )
}
"""Every fingerprinted sheet by name: all visible table sheets (汇总 is a report, not rows)."""
STORED_SHEETS = frozenset({REG_ROSTER.sheet, REJECTED.sheet, *(f.sheet for f in REG_TABLES)})
"""Sheets whose rows are the register's store; the others are rebuilt by every merge."""


def excel_time(value: dt.datetime | dt.date | np.datetime64) -> dt.datetime | None:
    """A date or time as the register writes it: naive, rounded to the millisecond Excel keeps.

    None for NaT. Written unrounded, a time half a millisecond off a whole one (…274.5 ms)
    reads back from its serial a hair either side, so its recorded fingerprint would not
    match what the next merge reads.
    """
    kind = type(value)
    # The common cases without a pandas Timestamp per cell (the writer's hot path).
    if kind is dt.datetime and value.tzinfo is None and value.microsecond % 1000 == 0:  # type: ignore[union-attr]
        return value  # type: ignore[return-value]
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day)  # type: ignore[union-attr]
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    return stamp.round("ms").to_pydatetime().replace(tzinfo=None)


def canon(value: object) -> str:
    """A cell value as it reads back from the written file, as one comparable string."""
    if value is None or value is pd.NaT or value == "":
        return ""
    if isinstance(value, str):
        return text_canon(value)
    if isinstance(value, bool | np.bool_):
        return "b1" if value else "b0"
    if isinstance(value, dt.datetime | dt.date | np.datetime64):
        when = excel_time(value)
        return "" if when is None else time_canon(when)
    if isinstance(value, numbers.Real):
        number = float(value)
        if number != number or number in (np.inf, -np.inf):
            return ""
        return number_canon(number)
    return canon(str(value))


# canon() of one type, for writers that already know it (the register's row loop).


def text_canon(text: str) -> str:
    """canon() of a non-empty string: line ends read back as LF."""
    return "s" + text.replace("\r\n", "\n").replace("\r", "\n")


def time_canon(when: dt.datetime) -> str:
    """canon() of an excel_time(): milliseconds since 1900, the precision Excel keeps."""
    return f"d{round((when - _EPOCH).total_seconds() * 1000)}"


def number_canon(number: float) -> str:
    """canon() of a finite number."""
    # As written (16 significant digits, as xlsxwriter does), then compared at 15: a value
    # and its read-back copy round the same way.
    return f"n{float(f'{number:.16G}'):.15g}"


def digest(cells: Iterable[str]) -> str:
    """The 16-hex-digit hash of a row's canonical cells."""
    return digest_text("\x1f".join(cells))


def digest_text(joined: str) -> str:
    """digest() of cells already joined with U+001F."""
    return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()


def column_digests(cells: Iterable[str]) -> str:
    """Short hashes of single cells, dot-joined: which recomputed column was edited."""
    return ".".join(hashlib.blake2b(c.encode(), digest_size=3).hexdigest() for c in cells)


@dataclass
class SheetPrints:
    """The fingerprints of one sheet's rows (and, for the roster, computed hashes by key)."""

    rows: Counter[str] = field(default_factory=Counter)
    computed: dict[str, str] = field(default_factory=dict)  # key -> column_digests()

    def add(self, cells: Sequence[str], spec: Spec, ids: Sequence[str]) -> tuple[str, str | None]:
        """Record one written row given its canonical cells laid out by `ids`."""
        row_at, comp_at, key_at = spec.positions(ids)
        fp = digest(cells[i] for i in row_at)
        self.rows[fp] += 1
        comp = None
        key = cells[key_at] if key_at is not None else ""
        if comp_at and key and not any(ch.isspace() or ch == "=" for ch in key):
            comp = column_digests(cells[i] for i in comp_at)
            self.computed[key] = comp
        return fp, comp

    def add_columns(self, columns: Sequence[np.ndarray], spec: Spec, ids: Sequence[str]) -> None:
        """Record many written rows given their canonical cells column by column."""
        row_at, comp_at, _ = spec.positions(ids)
        if comp_at:  # the roster: one row at a time, for the computed hashes by key
            for cells in zip(*columns, strict=True):
                self.add(cells, spec, ids)
            return
        parts = [columns[i].tolist() for i in row_at]
        self.rows.update(digest_text("\x1f".join(row)) for row in zip(*parts, strict=True))


@dataclass
class Fingerprints:
    """Every fingerprinted sheet of one register."""

    sheets: dict[str, SheetPrints] = field(default_factory=dict)

    def sheet(self, name: str) -> SheetPrints:
        return self.sheets.setdefault(name, SheetPrints())

    def to_rows(self) -> list[list[str]]:
        """The `_kam_rows` sheet's rows: sheet, part, up to 1,800 codes per cell."""
        out: list[list[str]] = []
        for name, prints in self.sheets.items():
            rows = [fp for fp, n in sorted(prints.rows.items()) for _ in range(n)]
            comp = [f"{k}={v}" for k, v in sorted(prints.computed.items())]
            for part, codes, size in ((ROWS, rows, _PER_CELL), (COMPUTED, comp, _PER_CELL // 4)):
                for start in range(0, len(codes), size):
                    out.append([name, part, " ".join(codes[start : start + size])])
            if not rows and not comp:
                out.append([name, ROWS, ""])  # an empty sheet is known to be empty
        return out

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[object]]) -> Fingerprints | None:
        """Read back `_kam_rows` (header row first); None when the register has none."""
        found = cls()
        seen = False
        for row in rows:
            cells = [*row, None, None, None][:3]
            name, part, codes = (c if isinstance(c, str) else "" for c in cells)
            if not names_a_sheet(name):
                continue
            seen = True
            prints = found.sheet(name)
            if part == ROWS:
                prints.rows.update(codes.split())
            elif part == COMPUTED:
                for pair in codes.split():
                    key, _, fp = pair.partition("=")
                    prints.computed[key] = fp
        return found if seen else None


def names_a_sheet(name: object) -> bool:
    """Whether a `_kam_rows` row's first cell names a sheet (not blank, not the header)."""
    return isinstance(name, str) and bool(name) and name != SHEET.header


def canonical_row(values: Sequence[object]) -> list[str]:
    """Canonical cells of a row read back from the register."""
    return [canon(v) for v in values]
