"""A filled submission's table rows as worksheet XML, spliced into what xlsxwriter saved.

Pre-filling a quarter writes millions of cells (DOMAIN §9.3: 100 branches at once), and
xlsxwriter spends some 20 µs of Python on each, plus a pass of its formula preparation on
every 参考等级 formula. So, as for the register (kam.register.sheet_rows), xlsxwriter writes
each sheet's header, column formats, validation and comments, and this module writes the
rows: each value with its column's style (what xlsxwriter gives a cell written with no
format of its own), dates with the template's date styles, and the 参考等级 formula on every
roster row. Strings stay inline strings: branch data is never a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from xlsxwriter.utility import _datetime_to_excel_datetime

from kam import template_formulas as tf
from kam.findings import column_letter
from kam.forms import ROSTER, Form
from kam.register.sheet_rows import SheetRows, _text


@dataclass(frozen=True)
class RowStyles:
    """xf indexes: each field's column style (None: General), the two date styles, and the
    quote-prefixed text style of values Excel would otherwise run as formulas."""

    columns: Mapping[str, int | None]
    date: int
    datetime: int
    quoted: int


def table_rows(
    folder: Path,
    index: int,
    form: Form,
    data: Sequence[Mapping[str, object]],
    rows: tf.Rows,
    styles: RowStyles,
    formula: str | None,
) -> SheetRows:
    """Rows rows.first.. of worksheet number `index` as XML in a temporary file in `folder`.

    `formula` (with tf's ROW placeholder) goes into the 参考等级 column of every row up to
    rows.last, as _write_tier_formulas does, with an empty cached value, as one shared formula.
    """
    fields = form.fields
    letters = [column_letter(c) for c in range(len(fields))]
    col_styles = [styles.columns.get(f.id) for f in fields]
    tier_col = fields.index(ROSTER["ref_tier"]) if formula is not None else -1
    tier_style = (
        "" if tier_col < 0 or col_styles[tier_col] is None else f' s="{col_styles[tier_col]}"'
    )
    formula_xml = escape(formula.removeprefix("=")) if formula is not None else ""
    # Columns repeat their values (units, enum words, dates): each is made XML once.
    memos: list[dict[tuple[type, object], str]] = [{} for _ in fields]
    ids = [f.id for f in fields]
    fd, name = tempfile.mkstemp(suffix=".rows.xml", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        lines = []
        # Rows past the data hold only the formula: a sheet without one stops at its data.
        last = rows.last if formula is not None else rows.first + len(data) - 1
        for r in range(rows.first, last + 1):
            row = str(r + 1)
            values = data[r - rows.first] if r - rows.first < len(data) else {}
            cells = []
            for c, fid in enumerate(ids):
                if c == tier_col:
                    # One shared formula, as Excel saves a filled-down column: the first cell
                    # holds it, the others refer to it (and read back as their own row's).
                    f = (
                        f'<f t="shared" ref="{letters[c]}{row}:{letters[c]}{rows.last + 1}" '
                        f'si="0">{tf.for_row(formula_xml, r)}</f>'
                        if r == rows.first
                        else '<f t="shared" si="0"/>'
                    )
                    cells.append(f'<c r="{letters[c]}{row}"{tier_style}>{f}<v></v></c>')
                    continue
                value = values.get(fid)
                if value is None:
                    continue
                key = (type(value), value)
                xml = memos[c].get(key)
                if xml is None:
                    xml = memos[c][key] = _cell(value, col_styles[c], styles)
                if xml:
                    cells.append(f'<c r="{letters[c]}{row}"{xml}')
            if cells:
                lines.append(f'<row r="{row}">{"".join(cells)}</row>')
        out.write("".join(lines))
    last_row = rows.last + 1 if formula is not None else rows.first + len(data)
    return SheetRows(f"xl/worksheets/sheet{index + 1}.xml", last_row, len(fields) - 1, Path(name))


def text_rows(
    folder: Path, index: int, grid: Iterable[Sequence[str]], first: int, quoted: int
) -> SheetRows:
    """Plain text rows from row `first` (1-based; the pre-fill record) as XML in a temp file."""
    fd, name = tempfile.mkstemp(suffix=".rows.xml", dir=folder)
    last_row, width = first - 1, 1
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        for r, line in enumerate(grid, start=first):
            cells = "".join(
                f'<c r="{column_letter(c)}{r}"{_text(v, quoted)[0]}'
                for c, v in enumerate(line)
                if v
            )
            out.write(f'<row r="{r}">{cells}</row>')
            last_row, width = r, max(width, len(line))
    return SheetRows(f"xl/worksheets/sheet{index + 1}.xml", max(last_row, 1), width - 1, Path(name))


def _cell(value: object, style: int | None, styles: RowStyles) -> str:
    """A value's cell XML after `<c r="A1"`, as xlsxwriter writes it; "" for a blank."""
    s = "" if style is None else f' s="{style}"'
    if isinstance(value, str):
        tail = _text(value, styles.quoted)[0]
        # A formula-like text carries its own (quote-prefix) style: it stays text on F2+Enter.
        return tail if tail.startswith(" s=") or not tail else f"{s}{tail}"
    if value != value:  # NaN, NaT: a blank, as _write_value writes them
        return ""
    if isinstance(value, bool):
        return f'{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        date_style = styles.date if when.time() == dt.time() else styles.datetime
        serial = _datetime_to_excel_datetime(when, False, True)
        return f' s="{date_style}"><v>{serial:.16G}</v></c>'
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number) or math.isinf(number):
        return ""
    return f"{s}><v>{number:.16G}</v></c>"
