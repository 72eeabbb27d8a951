"""Find formula cells and error-cell texts in worksheet XML without a full parse.

calamine returns only cached values: a formula cell looks like a typed value, and an error
cell (#DIV/0!, #N/A) comes back as "". Both are rare, so the worksheet XML is streamed and
searched for `<f` children and `t="e"` cells with literal byte patterns (fast in re); only
those few cells are looked at closely. Namespace prefixes (`<x:c r="B2"><x:f>`) are
tolerated. A formula or error cell without an `r` attribute (legal, rare) switches that
part to a slower scan that counts positions.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO

import numpy as np

from kam.findings import column_index
from kam.io import inflate
from kam.io.inflate import entry_chunks
from kam.io.refusals import refuse

_P = rb"(?:[A-Za-z_][\w.\-]*:)?"  # optional namespace prefix
_FORMULA = re.compile(rb"<" + _P + rb"f[\s/>]")
_ERROR_TYPE = re.compile(rb"\st\s*=\s*[\"']e[\"']")
_F_PLAIN = re.compile(rb"<f[\s/>]")
_F_PREFIXED = re.compile(rb":f[\s/>]")
_E_DOUBLE = re.compile(rb't="e"')
_E_SINGLE = re.compile(rb"t='e'")
_CELL_TAG = re.compile(rb"<" + _P + rb"c[\s/>]")
_REF = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})[\"']")
_ROW_NUM = re.compile(rb"\sr\s*=\s*[\"']([0-9]{1,7})[\"']")
_VALUE = re.compile(rb"<" + _P + rb"v(?:\s[^>]*)?>([^<]*)<")
_CELL_END = re.compile(rb"</" + _P + rb"c\s*>")
_ROW_END = re.compile(rb"</" + _P + rb"row\s*>")
_TOKEN = re.compile(rb"<(/?)" + _P + rb"(row|c|f|v)([\s/>])")
_ISO_DATE = re.compile(rb"\st\s*=\s*[\"']d[\"']")
CHUNK = 8 << 20

Cell = tuple[int, int]


@dataclass
class SheetMarks:
    """Formula cells and error texts of one sheet, 0-based (row, col)."""

    formulas: set[Cell] = field(default_factory=set)
    errors: dict[Cell, str] = field(default_factory=dict)
    iso_dates: bool = False  # t="d" cells
    inline_strings: bool = False  # t="inlineStr" cells
    nul_chars: bool = False  # an inline string holds U+0000 (written _x0000_)


class _NoRef(Exception):
    """A formula or error cell has no r attribute: positions must be counted."""


def scan_parts(path: str, parts: dict[str, str]) -> dict[str, SheetMarks]:
    """Marks of each sheet, given sheet name -> worksheet part name in the zip at path."""
    marks: dict[str, SheetMarks] = {}
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            for name, part in parts.items():
                info = zf.getinfo(part)
                try:
                    marks[name] = scan_chunks(entry_chunks(fh, info, CHUNK))
                except _NoRef:
                    marks[name] = scan_positional(entry_chunks(fh, info, CHUNK))
    except (zipfile.BadZipFile, *inflate.ERRORS, EOFError, OSError) as exc:  # e.g. a bad CRC
        raise refuse(Path(path).name, "corrupt_zip") from exc
    except NotImplementedError as exc:  # sniff refuses such methods first
        raise refuse(Path(path).name, "zip_method") from exc
    return marks


def stream_chunks(fh: IO[bytes], chunk: int = CHUNK) -> Iterator[bytes]:
    """A stream read `chunk` bytes at a time (for the scans)."""
    return iter(functools.partial(fh.read, chunk), b"")


def scan_chunks(chunks: Iterable[bytes]) -> SheetMarks:
    """Fast scan: only formula and error cells are decoded, by their r attribute."""
    marks = SheetMarks()
    started = False
    for segment in _segments(chunks):
        lo, hi, started = _cell_window(segment, started)
        _scan_segment(segment, marks, lo, hi)
    return marks


def _cell_window(segment: bytes, started: bool) -> tuple[int, int, bool]:
    """Bounds of the segment outside which no cell can start, and whether sheetData began.

    The header before <sheetData> and the tail after </sheetData> (data validations,
    conditional formats) hold the letters f, e and d that plain cells never do; leaving
    them out lets most segments be cleared by one memchr. A bound is only moved where no
    cell start tag lies beyond it, so a crafted file can slow this down, not fool it.
    """
    lo = 0
    if not started:
        i = segment.find(b"sheetData")
        if i < 0:
            return 0, len(segment), False
        started = True
        lo = 0 if _CELL_TAG.search(segment, 0, i) else i
    hi = segment.rfind(b"sheetData")
    opener = segment.rfind(b"<", 0, hi)
    if hi <= lo or segment[opener + 1 : opener + 2] != b"/" or _CELL_TAG.search(segment, hi):
        hi = len(segment)
    return lo, hi, started


def _segments(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream in pieces that end after a `</row>`, so no cell is ever cut in two."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk if carry else chunk
        cut = _last_row_end(buf)
        if cut < 0:
            carry = buf
            continue
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry


def _last_row_end(buf: bytes) -> int:
    """Index just after the last `</row>` (any prefix) in buf, or -1."""
    end = len(buf)
    while (i := buf.rfind(b"row", 0, end)) >= 0:
        start = buf.rfind(b"</", 0, i)
        if start >= 0 and (m := _ROW_END.match(buf, start)) and m.end() > i:
            return m.end()
        end = i
    return -1


def _cell_at(segment: bytes, pos: int) -> tuple[int, bytes] | None:
    """The `<c ...>` start tag that directly precedes pos, with its start index."""
    start = segment.rfind(b"<", 0, pos)
    if start < 0 or not _CELL_TAG.match(segment, start):
        return None
    return start, segment[start:pos]


def _ref(tag: bytes) -> Cell:
    m = _REF.search(tag)
    if m is None:
        raise _NoRef
    return int(m.group(2)) - 1, _column(m.group(1))


@functools.cache  # r's letters are at most three (_REF): a bounded, small cache
def _column(letters: bytes) -> int:
    """column_index of r's letters; a sheet names few columns, so each is worked out once."""
    return column_index(letters.decode("ascii"))


def _opens_cell(tag: bytes) -> bool:
    """Whether tag (from its `<` up to a child's `<`) is a cell's start tag that has children.

    <f> is the first child of <c>; anything else (e.g. <xm:f> in extLst) is not a cell.
    """
    tag = tag.rstrip()
    return _CELL_TAG.match(tag) is not None and tag.endswith(b">") and not tag.endswith(b"/>")


def _plain_formulas(segment: bytes) -> list[Cell]:
    """Cells whose first child is an unprefixed <f>; a sheet of formulas has one per row."""
    tags = []
    for m in _F_PLAIN.finditer(segment):
        tag = segment[segment.rfind(b"<", 0, m.start()) : m.start()]
        if _opens_cell(tag):
            tags.append(tag)
    # One search over all the tags instead of one per tag. Unless each tag holds exactly
    # one match (one without r, or with two, is legal or crafted), search tag by tag.
    refs = list(_REF.finditer(b"\n".join(tags)))
    if len(refs) == len(tags):
        ends = np.cumsum([len(tag) + 1 for tag in tags])
        owner = np.searchsorted(ends, [m.start() for m in refs], side="right")
        if (owner == np.arange(len(tags))).all():
            return [(int(m.group(2)) - 1, _column(m.group(1))) for m in refs]
    return [_ref(tag) for tag in tags]


def _prefixed_formulas(segment: bytes) -> list[Cell]:
    """Cells whose first child is a namespace-prefixed <x:f>."""
    cells = []
    for m in _F_PREFIXED.finditer(segment):
        start = segment.rfind(b"<", 0, m.start() + 1)
        tag = _FORMULA.match(segment, start) if start >= 0 else None
        if tag is None or tag.end() != m.end():
            continue
        found = _cell_at(segment, start)
        if found and _opens_cell(found[1]):
            cells.append(_ref(found[1]))
    return cells


def _scan_segment(segment: bytes, marks: SheetMarks, lo: int = 0, hi: int = -1) -> None:
    # Patterns that start with a literal are searched fast by re; a leading class is not.
    # bytes.find is faster still (memchr for one byte): between lo and hi most segments
    # hold no f (formula), no e (error), no d (ISO date) and no single quote at all.
    hi = len(segment) if hi < 0 else hi
    quote = segment.find(b"'", lo, hi) >= 0
    has_d = not marks.iso_dates and segment.find(b"d", lo, hi) >= 0
    if has_d and (b'"d"' in segment or (quote and b"'d'" in segment)):
        marks.iso_dates = _ISO_DATE.search(segment) is not None
    if segment.find(b"f", lo, hi) >= 0:
        if b"<f" in segment:
            marks.formulas.update(_plain_formulas(segment))
        if b":f" in segment:
            marks.formulas.update(_prefixed_formulas(segment))
    maybe_e = segment.find(b"e", lo, hi) >= 0  # error cells and inline strings hold an e
    if maybe_e and b"inlineStr" in segment:
        marks.inline_strings = True
        marks.nul_chars = marks.nul_chars or b"_x0000_" in segment
    has_e = maybe_e and (b't="e"' in segment or (quote and b"t='e'" in segment))
    for m in chain(_E_DOUBLE.finditer(segment), _E_SINGLE.finditer(segment)) if has_e else ():
        found = _cell_at(segment, m.start())
        if found is None or not segment[m.start() - 1 : m.start()].isspace():
            continue
        tag_end = segment.find(b">", m.end())
        if tag_end < 0 or segment[tag_end - 1 : tag_end] == b"/":
            continue
        close = _CELL_END.search(segment, tag_end)
        stop = close.start() if close else len(segment)
        value = _VALUE.search(segment, tag_end, stop)
        if value:
            text = value.group(1).decode("utf-8", "replace").strip()
            marks.errors[_ref(segment[found[0] : tag_end + 1])] = text


def scan_positional(chunks: Iterable[bytes]) -> SheetMarks:
    """Slow scan that tracks row and column counters, for cells without an r attribute."""
    marks = SheetMarks()
    row, col = -1, -1
    in_cell = is_error = False
    for segment in _segments(chunks):
        for m in _TOKEN.finditer(segment):
            closing, name = m.group(1), m.group(2)
            tag_end = segment.find(b">", m.end(3) - 1)
            tag = segment[m.start() : tag_end + 1]
            if closing:
                in_cell = in_cell and name != b"c"
                continue
            if name == b"row":
                num = _ROW_NUM.search(tag)
                row, col = (int(num.group(1)) - 1 if num else row + 1), -1
            elif name == b"c":
                ref = _REF.search(tag)
                if ref:
                    row, col = int(ref.group(2)) - 1, column_index(ref.group(1).decode("ascii"))
                else:
                    col += 1
                in_cell = not tag.endswith(b"/>")
                is_error = bool(_ERROR_TYPE.search(tag))
            elif name == b"f" and in_cell:
                marks.formulas.add((row, col))
            elif name == b"v" and in_cell and is_error:
                value = _VALUE.match(segment, m.start())
                if value:
                    text = value.group(1).decode("utf-8", "replace").strip()
                    marks.errors[(row, col)] = text
    return marks
