"""Read a worksheet as typed Arrow columns (fastexcel), only where that is exactly python-calamine.

python-calamine builds a Python object per cell, which costs more than parsing; fastexcel
parses with the same calamine into Arrow columns. An Arrow column has one type, so a sheet
takes this path only when every column under its first row holds one kind of cell (strict
inference), and when nothing python-calamine would keep can have become a null here:
fastexcel reads "NA", "null" and other such strings as empty in a typed column, and has
no way to say "a time" or "a 1900 date". In every other case read_columns() returns None
and the caller reads that sheet with python-calamine, so values are the same either way.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kam.io.sheet_scan import SheetMarks

try:  # imported here, not in each reading child: a fork inherits them
    import fastexcel
    import nanoarrow
except ImportError:  # python-calamine reads every sheet then
    fastexcel = nanoarrow = None

WIDE_HEADER = 1000  # cells in row 1 beyond which fastexcel's header handling is too slow
HEAD_BUDGET = 4 << 20  # bytes of a sheet's XML searched for the end of its first row
_P = rb"(?:[A-Za-z_][\w.\-]*:)?"  # optional namespace prefix
_ROW_START = re.compile(rb"<" + _P + rb"row[\s>]")
_ROW_END = re.compile(rb"</" + _P + rb"row\s*>")
_CELL_OPEN = re.compile(rb"<" + _P + rb"c[\s/>]")

# Strings fastexcel treats as null when it infers a column's type (fastexcel 0.21).
NULL_STRINGS = frozenset(
    {
        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
        "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
    }
)  # fmt: skip
# Any null string as a whole <t> text, escaped as XML writers do (> may also stay as is).
_NULL_FORMS = {html.escape(s, quote=False) for s in NULL_STRINGS}
_NULL_TEXT = re.compile(
    b">(?:"
    + b"|".join(
        re.escape(form.encode())
        for form in sorted(_NULL_FORMS | {f.replace("&gt;", ">") for f in _NULL_FORMS})
    )
    + b")<"
)
# From this many rows on, a text or date column is passed on as a Categorical. Below it, building
# the Categorical and typing through it cost more (fixed pandas overhead per column) than
# re-finding a short column's distinct values: a branch file of 3,000 rows typed about 20%
# slower that way.
CATEGORICAL_ROWS = 5_000
_DAY_MS = 86_400_000
_KEY_BYTES = 128  # strings shorter than this are told apart in numpy
_MIN_DATE_MS = -2_203_891_200_000  # 1900-03-01: below it serials hit Excel's 1900 leap bug
_SI = re.compile(rb"<(?:[\w.\-]+:)?si[\s>].*?</(?:[\w.\-]+:)?si\s*>", re.DOTALL)
_PHONETIC = re.compile(rb"<(?:[\w.\-]+:)?rPh[\s>].*?</(?:[\w.\-]+:)?rPh\s*>", re.DOTALL)
_TAG = re.compile(rb"<[^>]*>")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NULL_BYTES = re.compile(rb"[Nn&_]")  # every null string holds N, n or an escape
# A <t> text short enough to be a null string, escapes included, holding N, n, & or _.
_SHORT_TEXT = re.compile(rb">(?=[^<]{0,96}[Nn&_])([^<]{1,96})</(?:[\w.\-]+:)?t>")
_FLOAT_NAME = re.compile(r"[\s+\-]*(?:\d|inf|nan|NaN|infinity)", re.IGNORECASE)


@dataclass(frozen=True)
class PackedColumn:
    """One column from the header row down: kind, values as arrays, nulls as a mask."""

    kind: str  # "str" | "float" | "bool" | "date"
    header: Any
    values: np.ndarray  # str: int32 codes into `strings`; date: int64 ms since 1970
    valid: np.ndarray | None = None  # None: no nulls
    strings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PackedColumns:
    """A sheet read column-wise: A1-anchored size and the columns from `left` on (row 1 first)."""

    height: int
    width: int
    left: int  # 0-based column of the first column in `columns`
    columns: list[PackedColumn]


@dataclass(frozen=True)
class StringFacts:
    """What the shared strings hold that fastexcel would not give back as python-calamine."""

    null_strings: bool  # a string fastexcel reads as null in a typed column ("NA", ...)
    nul_chars: bool  # a string holds U+0000, which fastexcel drops from header names


def shared_string_facts(zf: zipfile.ZipFile, part: str) -> StringFacts:
    """StringFacts of the shared strings (and of every part that may be read as them)."""
    parts = {part} if part else set()
    parts |= {n for n in zf.namelist() if "sharedstrings" in n.lower().replace("\\", "/")}
    nulls = nuls = False
    for name in parts:
        data = zf.read(name)
        nulls = nulls or _holds_nulls(data)
        nuls = nuls or b"_x0000_" in data
    return StringFacts(nulls, nuls)


def _holds_nulls(data: bytes) -> bool:
    if not _NULL_BYTES.search(data):
        return False
    if b"<![CDATA[" in data:  # text the tag-stripping below would not see: assume the worst
        return True
    rich = b"<r>" in data or b"<r " in data or b":r>" in data or b":r " in data
    if not rich and b"&#" not in data and b"_x" not in data and b"<!" not in data:
        # No runs, no character references, no _xHHHH_ escapes: each string is one <t>
        # text, written as itself (with &lt; and the like), so a literal search is exact.
        return _NULL_TEXT.search(data) is not None
    if rich:
        items = (m.group() for m in _SI.finditer(data))  # rich text: join each item's runs
    else:
        items = (m.group(1) for m in _SHORT_TEXT.finditer(data))
    for raw in items:
        if not _NULL_BYTES.search(raw):
            continue
        text = _TAG.sub(b"", _PHONETIC.sub(b"", raw))
        if len(text) > 96:
            continue
        decoded = html.unescape(text.decode("utf-8", "replace"))
        if _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), decoded) in NULL_STRINGS:
            return True
    return False


def header_too_wide(zf: zipfile.ZipFile, part: str) -> bool:
    """True when the sheet's first row holds more than WIDE_HEADER cells (or does not end in
    the first HEAD_BUDGET bytes): fastexcel makes repeated header names unique in roughly
    cubic time (8,000 equal names: a minute), so such a sheet goes to python-calamine."""
    head = b""
    with zf.open(part) as fh:
        while (end := _ROW_END.search(head)) is None:
            data = fh.read(1 << 16)
            if not data:
                return False  # no row at all
            if len(head) > HEAD_BUDGET:
                return True
            head = head[-16:] + data if _ROW_START.search(head) is None else head + data
    return len(_CELL_OPEN.findall(head, 0, end.start())) > WIDE_HEADER


def read_columns(
    reader: Any, name: str, marks: SheetMarks, shared: Callable[[], StringFacts]
) -> PackedColumns | None:
    """The sheet as PackedColumns, or None when only python-calamine can read it exactly.

    shared() gives the shared strings' StringFacts; it is asked only when needed (it costs
    a look at the XML) and the caller keeps the answer for the file's other sheets.
    """
    if marks.iso_dates:
        return None
    try:
        # Row 1 as the header, counted from A1 (skip_rows=0): a blank or non-text cell there
        # gets a generated name, and _headers_exact sends such a sheet to python-calamine.
        sheet = reader.load_sheet(
            name,
            header_row=0,
            skip_rows=0,
            dtype_coercion="strict",
            schema_sample_rows=None,
        )
        infos = sheet.available_columns()
        if not infos:
            return None
        batch = nanoarrow.Array(sheet)
    except Exception:  # mixed types, errors fastexcel will not type, anything odd
        return None
    if batch.n_chunks != 1 or batch.offset != 0:
        return None
    left = infos[0].absolute_index
    if [i.absolute_index for i in infos] != list(range(left, left + len(infos))):
        return None
    headers = [i.name for i in infos]
    if not _headers_exact(infos) or any(r == 0 for r, _ in marks.formulas):
        return None
    if marks.nul_chars or shared().nul_chars:  # fastexcel drops U+0000 from a header name
        return None
    formula_cols = {c for r, c in marks.formulas if r > 0}
    n = sheet.height
    columns = []
    for j, info in enumerate(infos):
        child = batch.child(j)
        if child.offset != 0 or len(child) != n:
            return None
        col = _column(info.dtype, headers[j], child, n)
        if col is None:
            return None
        # A null in a typed column may be a string python-calamine keeps: a formula's text
        # result, or a shared or inline string such as "NA".
        nullable = col.kind != "str" and col.valid is not None
        if nullable and (left + j in formula_cols or marks.inline_strings or shared().null_strings):
            return None
        columns.append(col)
    return PackedColumns(1 + n, left + len(infos), left, columns)


def _headers_exact(infos: list[Any]) -> bool:
    """Header names are the header cells' own strings (not generated, numbered or numbers)."""
    seen: set[str] = set()
    for info in infos:
        name = info.name
        if info.column_name_from != "looked_up" or _FLOAT_NAME.match(name):
            return False
        base, _, suffix = name.rpartition("_")
        if suffix.isdigit() and base in seen:
            return False  # possibly a repeated header that fastexcel numbered
        seen.add(name)
    return True


def _validity(buffer: Any, n: int) -> np.ndarray | None:
    bits = np.frombuffer(buffer, dtype=np.uint8)
    if len(bits) == 0:
        return None
    valid = np.unpackbits(bits, bitorder="little")[:n].astype(bool)
    return None if valid.all() else valid


def _column(dtype: str, header: str, child: Any, n: int) -> PackedColumn | None:
    buffers = child.buffers
    valid = _validity(buffers[0], n)
    if dtype == "string":
        codes, strings = _strings(buffers[1], buffers[2], n, valid)
        return PackedColumn("str", header, codes, None, strings)
    if dtype == "float":
        return PackedColumn("float", header, np.frombuffer(buffers[1], np.float64)[:n], valid)
    if dtype == "boolean":
        bits = np.unpackbits(np.frombuffer(buffers[1], np.uint8), bitorder="little")[:n]
        return PackedColumn("bool", header, bits.astype(bool), valid)
    if dtype == "datetime":
        ms = np.frombuffer(buffers[1], np.int64)[:n]
        present = ms if valid is None else ms[valid]
        if len(present) and present.min() < _MIN_DATE_MS:
            return None  # times of day and early-1900 serials: python-calamine differs
        return PackedColumn("date", header, ms, valid)
    return None  # int, date, duration, null: not produced for .xlsx cells we take


def _strings(
    offsets_buffer: Any, data_buffer: Any, n: int, valid: np.ndarray | None
) -> tuple[np.ndarray, list[str]]:
    """Codes into a list of distinct strings ("" for nulls), each decoded once."""
    offsets = np.frombuffer(offsets_buffer, np.int32)[: n + 1].astype(np.int64)
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if n else 0
    data = bytes(data_buffer)
    if longest == 0:
        return np.zeros(n, np.int32), [""]
    if longest < _KEY_BYTES:
        # Each cell's bytes (after its length) in a fixed-width row: numpy finds the distinct
        # rows without a Python object per cell.
        keys = _fixed_width(np.frombuffer(data, np.uint8), offsets, lengths, longest)
        codes, first = _distinct_rows(keys)
        bounds = offsets.tolist()
        strings = [data[bounds[i] : bounds[i + 1]].decode("utf-8") for i in first.tolist()]
    else:
        text = data.decode("utf-8")
        if len(text) != len(data):  # non-ASCII: byte offsets to character offsets
            starts = (np.frombuffer(data, np.uint8) & 0xC0) != 0x80
            chars = np.zeros(len(data) + 1, dtype=np.int64)
            np.cumsum(starts, out=chars[1:])
            offsets = chars[offsets]
        bounds = offsets.tolist()
        cells = list(map(text.__getitem__, map(slice, bounds[:-1], bounds[1:])))
        codes, uniques = pd.factorize(np.array(cells, dtype=object), use_na_sentinel=False)
        strings = uniques.tolist()
    codes = codes.astype(np.int32).ravel()
    if valid is not None:
        if "" not in strings:
            strings.append("")
        codes[~valid] = strings.index("")
    return codes, strings


def _fixed_width(
    data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, longest: int
) -> np.ndarray:
    """One row of 64-bit words per cell: its length byte, its bytes, zeros to the row's end."""
    n = len(lengths)
    width = (longest + 1 + 7) // 8 * 8
    keys = np.zeros((n, width), np.uint8)
    keys[:, 0] = lengths
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi - lo == longest * n:  # every cell as long as the longest (codes): one reshape
        keys[:, 1 : 1 + longest] = data[lo:hi].reshape(n, longest)
    elif hi > lo:
        # Each byte's place in `keys`: its cell's row, then its offset within the cell.
        row = np.repeat(np.arange(n, dtype=np.int64), lengths)
        at = np.arange(lo, hi, dtype=np.int64) - offsets[:-1][row] + row * width + 1
        keys.ravel()[at] = data[lo:hi]
    return keys.view(np.uint64)


def _row_hash(words: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row of words (collisions are checked for by the caller)."""
    h = words[:, 0].copy()
    for k in range(1, words.shape[1]):
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        h += words[:, k]
    return h


def _distinct_rows(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each row among the distinct rows, and the first row of each distinct one."""
    if words.shape[1] == 1:  # the word is the row: no hash, nothing to check
        codes, _ = pd.factorize(words[:, 0])
    else:
        codes, _ = pd.factorize(_row_hash(words))
    # pd.factorize numbers values in order of first appearance: a row is the first of its
    # value exactly where its code exceeds every code before it.
    top = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], top[1:] > top[:-1])))
    if words.shape[1] > 1 and not (words == words[first[codes]]).all():
        # Two different rows share a hash: sort the rows themselves instead (exact, slower).
        rows = np.ascontiguousarray(words).view(f"V{words.shape[1] * 8}").ravel()
        _, first, codes = np.unique(rows, return_index=True, return_inverse=True)
    return codes, first


def unpack_columns(packed: PackedColumns) -> list[np.ndarray | pd.Categorical]:
    """One column per column from A, with the values python-calamine gives.

    A text or date column of a long sheet is a pd.Categorical (codes into its distinct
    cells), so the reader types each distinct value once without sorting them out again;
    the others are object arrays.
    """
    blank = np.full(packed.height, "", dtype=object)
    out: list[np.ndarray | pd.Categorical] = [blank.copy() for _ in range(packed.left)]
    for col in packed.columns:
        if col.kind in ("str", "date") and packed.height >= CATEGORICAL_ROWS:
            out.append(_categorical(col, packed.height))
            continue
        values = blank.copy()
        values[0] = col.header
        values[1:] = _objects(col)
        out.append(values)
    return out


def _categorical(col: PackedColumn, height: int) -> pd.Categorical:
    """The column (header on top) as codes into its distinct cells, each made once."""
    if col.kind == "str":
        at, distinct = col.values, list(col.strings)
    else:  # dates: a log of 50,000 rows spans a few hundred days
        at, days = pd.factorize(col.values)
        distinct = _objects(PackedColumn(col.kind, col.header, days)).tolist()
        if col.valid is not None:  # factorize made `at`: ours to change
            at[~col.valid] = len(distinct)
            distinct.append("")
    try:
        head = distinct.index(col.header)
    except ValueError:
        head = len(distinct)
        distinct.append(col.header)
    codes = np.empty(height, np.int32)
    codes[0] = head
    codes[1:] = at
    return pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object))


def _objects(col: PackedColumn) -> np.ndarray:
    """A column's cells as objects ("" where empty)."""
    if col.kind == "str":
        return np.array(col.strings, dtype=object)[col.values]
    if col.kind == "date":
        ms = col.values
        values = ms.astype("datetime64[ms]").astype(object)  # datetime.datetime
        whole = ms % _DAY_MS == 0
        if whole.any():  # python-calamine gives a date for a whole-day serial
            values[whole] = (ms[whole] // _DAY_MS).astype("datetime64[D]").astype(object)
    else:
        values = col.values.astype(object)
    if col.valid is not None:
        values[~col.valid] = ""
    return values
