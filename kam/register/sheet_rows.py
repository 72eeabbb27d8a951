"""The register's data rows as worksheet XML, spliced into the package xlsxwriter saved.

xlsxwriter spends about 20 µs of Python per cell (argument checks, type dispatch, escaping
through several calls), and a quarter's register holds millions of cells: writing was most
of a merge. So each table sheet is written by xlsxwriter with its header, column widths,
filter, frozen pane and conditional formats only, while its rows are turned into XML here,
one plain loop per sheet (each distinct value of a column once per chunk of rows), into a
temporary file; splice() then streams them into the saved
package. The XML is what xlsxwriter writes for the same values (inline strings, numbers as
%.16G, dates as serials with the register's date styles), so the file reads back the same.
Every value is still data: strings are always inline strings, never formulas, and text
that looks like one carries the quote prefix (kam.injection).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from xlsxwriter.utility import _datetime_to_excel_datetime

from kam.findings import column_letter
from kam.injection import starts_formula
from kam.register.columnwise import factorized
from kam.register.fingerprints import (
    SheetPrints,
    Spec,
    canon,
    excel_time,
    number_canon,
    text_canon,
    time_canon,
)
from kam.register.seal import CUSTOM_PART, add, new_seal, stamped

CELL_LIMIT = 32767  # Excel's limit, in UTF-16 code units
CUT_NOTE = "…【超出 Excel 单元格上限 {limit} 字符，原文共 {n} 字，已截断】"
# C0 controls except tab, LF and CR, DEL, and the noncharacters U+FFFE/U+FFFF: Excel
# cannot store them.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_ESCAPED_LOOKALIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # literal text Excel would decode
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_END = b"</sheetData>"
_CHUNK_ROWS = 20000
# A text that may need more than wrapping in <t>: a first character that is not a letter or
# digit (space, formula signs), a last one that is space, XML specials, CR, Excel's _xHHHH_
# escapes, characters Excel cannot store, and the empty text.
PLAIN_NUMBERS = frozenset({int, float, np.int64, np.float64})  # written as %.16G in bulk
_NOT_PLAIN = r"\A(?:[\W_]|\Z)|\s\Z|[&<>\r]|_x|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]"


def clean_text(text: str) -> str:
    """A string Excel can hold: control characters removed."""
    return CONTROL_RE.sub("", text)


def fit_text(value: str) -> tuple[str, bool]:
    """clean_text(), then cut with a visible note past Excel's cell limit; True when cut."""
    text = clean_text(value) if CONTROL_RE.search(value) else value
    if len(text) <= CELL_LIMIT // 2 or _utf16(text) <= CELL_LIMIT:
        return text, False
    note = CUT_NOTE.format(limit=CELL_LIMIT, n=len(text))
    keep = text[: CELL_LIMIT - _utf16(note)]
    while _utf16(keep) + _utf16(note) > CELL_LIMIT:  # characters beyond U+FFFF count twice
        keep = keep[:-1]
    return keep + note, True


@dataclass
class Styles:
    """xf indexes of the two date formats (xlsxwriter's own, so the workbook defines them)."""

    date: int
    datetime: int
    quoted: int = 0  # text shown as text: Excel's quote prefix (kam.injection)


@dataclass
class SheetRows:
    """One sheet's data rows, already written as XML to a temporary file."""

    part: str  # e.g. xl/worksheets/sheet3.xml
    last_row: int  # 1-based row of the last data row (1: headers only)
    last_col: int  # 0-based
    file: Path


@dataclass
class Job:
    """A sheet whose rows are still to be written (kam.register.parallel_rows)."""

    sheet: str
    index: int
    frame: pd.DataFrame
    prints: tuple[SheetPrints, Spec, Sequence[str]] | None


@dataclass
class RowWriter:
    """Turns frames into row XML files; collects cut cells and fingerprints on the way."""

    styles: Styles
    folder: Path
    notes: list[str]
    sheets: list[SheetRows] = field(default_factory=list)
    pending: list[Job] | None = None  # a list: sheets are put off (parallel_rows writes them)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # each sheet's, as written

    def add(
        self,
        sheet: str,
        index: int,
        frame: pd.DataFrame,
        prints: tuple[SheetPrints, Spec, Sequence[str]] | None = None,
    ) -> None:
        """Write frame's rows (row 2 on, columns A on) for worksheet number `index` (0-based)."""
        self.frames[sheet] = frame
        if self.pending is not None:
            self.pending.append(Job(sheet, index, frame, prints))
            return
        letters = [column_letter(c) for c in range(frame.shape[1])]
        fd, name = tempfile.mkstemp(suffix=".rows.xml", dir=self.folder)
        # Binary, each chunk encoded at once: a text file's writer is about three times
        # slower on tens of megabytes of XML.
        with os.fdopen(fd, "wb") as out:
            columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
            for start in range(0, len(frame), _CHUNK_ROWS):
                part = [col[start : start + _CHUNK_ROWS] for col in columns]
                self._rows(out, sheet, letters, part, start + 2, prints)
        self.sheets.append(
            SheetRows(
                f"xl/worksheets/sheet{index + 1}.xml", len(frame) + 1, len(letters) - 1, Path(name)
            )
        )

    def _rows(
        self,
        out: IO[bytes],
        sheet: str,
        letters: list[str],
        columns: list[np.ndarray],
        first: int,
        prints: tuple[SheetPrints, Spec, Sequence[str]] | None,
    ) -> None:
        # Column by column: each distinct value is turned into XML once (pd.factorize), each
        # cell's XML made by numpy's element-wise string addition, and each row joined once
        # (adding cells to a growing row string would copy it once per cell).
        n = len(columns[0]) if columns else 0
        numbers = np.array([str(r) for r in range(first, first + n)], dtype=object)
        cells: list[np.ndarray] = []
        filled = np.zeros(n, dtype=bool)
        backs: list[np.ndarray] = []
        cut: list[tuple[int, int]] = []
        for c, (letter, column) in enumerate(zip(letters, columns, strict=True)):
            xml, back, cut_at = self._column(column)
            here = xml != ""
            if here.any():
                made = np.full(n, "", dtype=object)
                made[here] = (f'<c r="{letter}' + numbers[here] + '"') + xml[here]
                cells.append(made)
                filled |= here
            backs.append(back)
            cut.extend((int(i), c) for i in cut_at)
        for i, c in sorted(cut):  # row by row, as the cells were written
            self.notes.append(f"{sheet}!{letters[c]}{first + i}")
        if filled.any():
            heads = ('<row r="' + numbers[filled] + '">').tolist()
            parts = [c[filled].tolist() for c in cells]
            rows = "".join(["".join(row) for row in zip(heads, *parts, repeat("</row>"))])
            out.write(rows.encode("utf-8"))
        if prints is not None and backs:
            written = np.logical_or.reduce([b != "" for b in backs])
            if written.any():
                prints[0].add_columns([b[written] for b in backs], prints[1], prints[2])

    def _column(self, column: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each cell's XML after `<c r="A1"` ("" for a blank), its read-back canon, and the
        positions of texts cut at Excel's limit."""
        tail = self._tail
        found = factorized(column)
        if found is None:
            memo: dict[tuple[type, object], tuple[str, str, bool]] = {}
            made = []
            for value in column:
                key = (type(value), value)
                try:
                    made.append(memo[key] if key in memo else memo.setdefault(key, tail(value)))
                except TypeError:
                    made.append(tail(value))
            xml = np.array([m[0] for m in made], dtype=object)
            back = np.array([m[1] for m in made], dtype=object)
            cuts = np.array([m[2] for m in made], dtype=bool)
            return xml, back, np.flatnonzero(cuts)
        codes, uniques, kinds = found
        xml, back, cuts = self._distinct(uniques, kinds)
        # code -1 (a blank: None, NaN, NaT) takes the last entry: nothing written.
        xml, back = np.append(xml, ""), np.append(back, "")
        return xml[codes], back[codes], np.flatnonzero(np.append(cuts, False)[codes])

    def _distinct(
        self, values: np.ndarray, kinds: set[type]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """_tail() of distinct values as three arrays; plain texts and numbers without a
        call each."""
        xml = np.empty(len(values), dtype=object)
        back = np.empty(len(values), dtype=object)
        cuts = np.zeros(len(values), dtype=bool)
        plain = np.zeros(len(values), dtype=bool)
        if kinds and kinds <= PLAIN_NUMBERS and len(values):
            numbers = values.astype(float)  # (as _tail() does: an int is written as a float)
            plain = np.isfinite(numbers)
            # As _tail() and number_canon() write them (%.16G, then compared at 15 digits).
            written = [f"{x:.16G}" for x in numbers[plain].tolist()]
            xml[plain] = [f"><v>{w}</v></c>" for w in written]
            back[plain] = [f"n{float(w):.15g}" for w in written]
        if kinds == {str} and len(values):
            # Most texts need no escaping, cutting, quote prefix or preserved space.
            found = pd.Series(values).str.contains(_NOT_PLAIN, regex=True).to_numpy(bool)
            plain = ~found & (pd.Series(values).str.len().to_numpy() <= CELL_LIMIT // 2)
            xml[plain] = ' t="inlineStr"><is><t>' + values[plain] + "</t></is></c>"
            back[plain] = "s" + values[plain]
        for i in np.flatnonzero(~plain):
            xml[i], back[i], cuts[i] = self._tail(values[i])
        return xml, back, cuts

    def _tail(self, value: object) -> tuple[str, str, bool]:
        """(a cell's XML after `<c r="A1"`, the value as it reads back: fingerprints.canon,
        whether the text was cut) of one value; ("", "", False) for a blank."""
        kind = type(value)
        if value is None or value is pd.NaT:
            return "", "", False
        if kind is str:
            return _text(value, self.styles.quoted)  # type: ignore[arg-type]
        if kind is float or kind is int or kind is np.float64 or kind is np.int64:
            number = float(value)  # type: ignore[arg-type]
            if math.isnan(number) or math.isinf(number):
                return "", "", False
            return f"><v>{number:.16G}</v></c>", number_canon(number), False
        if kind is bool or kind is np.bool_:
            return f' t="b"><v>{"1" if value else "0"}</v></c>', canon(value), False
        if isinstance(value, dt.datetime | dt.date | np.datetime64):
            return self._when(value)
        if isinstance(value, int | float | np.integer | np.floating):
            return self._tail(float(value))
        return _text(str(value), self.styles.quoted)

    def _when(self, value: object) -> tuple[str, str, bool]:
        when = excel_time(value)  # type: ignore[arg-type]
        if when is None:
            return "", "", False
        style = self.styles.date if when.time() == dt.time() else self.styles.datetime
        serial = _datetime_to_excel_datetime(when, False, True)
        return f' s="{style}"><v>{serial:.16G}</v></c>', time_canon(when), False


def _text(value: str, quoted: int) -> tuple[str, str, bool]:
    text, cut = fit_text(value)
    if not text:
        return "", "", cut
    style = "" if text[0].isalnum() or not starts_formula(text) else f' s="{quoted}"'
    read_back = text_canon(text)
    data = text
    if "&" in data or "<" in data or ">" in data:
        data = data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in data:
        data = _ESCAPED_LOOKALIKE.sub(r"_x005F\1", data)
    if "\r" in data:
        data = data.replace("\r", "_x000D_")
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'{style} t="inlineStr"><is><t{space}>{data}</t></is></c>', read_back, cut


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


DEFLATE_LEVEL = 1
"""zlib level of the register's parts: the row XML compresses at 1 about three times faster
than the default 6, for a file about a fifth larger."""


def splice(path: Path, sheets: list[SheetRows], cache: str | None = None) -> None:
    """Put each sheet's row XML into the saved workbook at `path` (a new file, then replace).

    The row files stay: the caller made them and removes them. The temporary copy goes
    beside `path`, which every caller writes inside its private folder (kam.fs.private_dir).
    """
    by_part = {s.part: s for s in sheets}
    fd, name = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        with (
            zipfile.ZipFile(path) as zin,
            zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as zout,
        ):
            sealed = new_seal()  # the worksheets as written, in package order (seal.py)
            for item in zin.infolist():
                rows = by_part.get(item.filename)
                if rows is None:
                    data = zin.read(item.filename)
                    if item.filename == CUSTOM_PART:  # (xlsxwriter writes it after the sheets)
                        data = stamped(data, sealed, cache)
                    zout.writestr(item, data)
                    add(sealed, zout.filelist[-1])
                    continue
                xml = zin.read(item.filename)
                ref = f"A1:{column_letter(rows.last_col)}{rows.last_row}".encode()
                xml = _DIMENSION.sub(b'<dimension ref="' + ref + b'"/>', xml, count=1)
                cut = xml.rindex(_END)
                with zout.open(item.filename, "w", force_zip64=True) as dst:
                    dst.write(xml[:cut])
                    with rows.file.open("rb") as src:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    dst.write(xml[cut:])
                add(sealed, zout.filelist[-1])
        os.replace(name, path)
    finally:
        if os.path.exists(name):
            os.unlink(name)
