"""Read a workbook file into a RawBook safely: sniff the bytes, then parse in child processes.

open_sheets() (and load_raw() on top of it) is the only way kam reads a file from disk.
The format is decided from the bytes (kam.io.sniff); the sheets are then taken, largest
first, by child processes (one per core, each takes the next sheet when it is free;
kam.io.isolate: memory, CPU and time limits). Each child finds formula cells and error
texts in its sheets' XML (kam.io.sheet_scan), which calamine does not report, then reads
each sheet as Arrow columns (kam.io.fast_read) where that is exact, else with
python-calamine as rows. Each sheet is sent back as soon as it is read, so the caller can
type it while the children read the rest.
"""

from __future__ import annotations

import functools
import gc
import logging
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import python_calamine as calamine

from kam.errors import KamError
from kam.findings import column_letter
from kam.io import fast_read
from kam.io.fast_read import (
    PackedColumns,
    StringFacts,
    read_columns,
    shared_string_facts,
    unpack_columns,
)
from kam.io.grid_codec import PackedGrid, pack_grid, unpack_grid
from kam.io.isolate import Isolated, gather, shared_counter
from kam.io.macro_free import without_macro_sheets
from kam.io.raw import RawBook, RawSheet
from kam.io.refusals import refuse
from kam.io.sheet_scan import SheetMarks, scan_parts
from kam.io.sniff import sniff


def _require_defusedxml() -> None:
    """Refuse to run without defusedxml: openpyxl would then parse hostile XML unguarded."""
    try:
        import defusedxml  # noqa: F401
        from openpyxl.xml import DEFUSEDXML
    except ImportError as exc:
        raise KamError(
            "缺少 defusedxml 组件，无法安全读取工作簿：请运行 pip install defusedxml"
        ) from exc
    if DEFUSEDXML is not True:
        raise KamError("openpyxl 未启用 defusedxml，无法安全读取工作簿：请重新安装 defusedxml")


_require_defusedxml()


@dataclass(frozen=True)
class ReadLimits:
    """Every limit that keeps reading one file bounded in size, memory and time."""

    max_file_bytes: int = 200 * 2**20
    max_uncompressed_bytes: int = 2 * 2**30
    max_ratio: float = 200.0  # zip-bomb guard per entry (only for entries > 1 MiB)
    max_entries: int = 10_000
    max_rows: int = 1_048_576
    max_cols: int = 16_384
    max_cells: int = 30_000_000  # of each sheet's real extent
    max_sheets: int = 255  # a submission has a dozen; thousands would stall a merge
    timeout_s: float = 60.0
    memory_bytes: int = 4 * 2**30  # address space each reading child may add
    workers: int = 2  # child processes that read sheets at the same time


DEFAULT_LIMITS = ReadLimits()
_SKIPPED_KINDS = (calamine.SheetTypeEnum.ChartSheet, calamine.SheetTypeEnum.DialogSheet)


@dataclass
class SheetStream:
    """The sheets of one file, handed over one by one as the reading children finish them."""

    file: str
    names: list[str]  # the sheets that hold cells, in tab order
    sheets: Iterator[RawSheet]  # in the order they are read; raises UnreadableFileError
    skipped: list[str] = field(default_factory=list)  # Excel 4.0 macro sheets, not read


@contextmanager
def open_sheets(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[SheetStream]:
    """Start reading a file in child processes; the stream yields each sheet once it is read.

    The caller can work on one sheet while the children still read the others. Raises
    kam.errors.UnreadableFileError(file, reason_zh, reason_en) for anything that cannot be
    read safely (here or while iterating); the file is named by its base name.
    """
    path = Path(path)
    file = path.name
    package = sniff(path, limits)
    parts = package.data_parts()
    skipped = [s.name for s in package.macro_sheets]
    with without_macro_sheets(path, package) as readable:
        sheets = _largest_first(readable, parts)
        queue = SheetQueue(sheets, shared_counter())
        args = (str(readable), queue, package.shared_strings, limits)
        jobs = [
            Isolated(read_sheets, args, limits, file)
            for _ in range(min(max(1, limits.workers), len(sheets)))
        ]
        try:
            yield SheetStream(file, list(parts), _arrivals(file, jobs), skipped)
        finally:
            for job in jobs:
                job.cancel()


def load_raw(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> RawBook:
    """Every sheet's cell values and formula-cell positions, read isolated (see open_sheets)."""
    with open_sheets(path, limits) as stream:
        read = {sheet.name: sheet for sheet in stream.sheets}
    return RawBook(file=stream.file, sheets={n: read[n] for n in stream.names if n in read})


def _arrivals(file: str, jobs: list[Isolated]) -> Iterator[RawSheet]:
    count = 0
    for name, payload, sheet_marks in gather(jobs):
        with _gc_paused():
            if isinstance(payload, PackedColumns):
                columns = unpack_columns(payload)
                sheet = RawSheet(name, None, sheet_marks.formulas, columns=columns)
            else:
                sheet = RawSheet(name, unpack_grid(payload), sheet_marks.formulas)
            _put_errors(sheet, sheet_marks.errors)
        count += 1
        yield sheet
    if not count:
        raise refuse(file, "no_sheets")


@dataclass(frozen=True)
class SheetQueue:
    """(sheet, part) pairs, largest first, that the reading children take one at a time.

    A child takes the next sheet when it is done with its last, so the children finish
    together whatever each sheet costs (formulas, many columns), which sizes cannot tell.
    """

    sheets: list[tuple[str, str]]
    taken: Any  # a multiprocessing Value shared by the children: the next index

    def take(self) -> tuple[str, str] | None:
        with self.taken.get_lock():
            i = self.taken.value
            self.taken.value = i + 1
        return self.sheets[i] if i < len(self.sheets) else None


def _largest_first(path: Path, parts: dict[str, str]) -> list[tuple[str, str]]:
    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {n: zf.getinfo(p).file_size for n, p in parts.items()}
    except (zipfile.BadZipFile, KeyError, OSError):
        sizes = dict.fromkeys(parts, 0)
    return [(name, parts[name]) for name in sorted(parts, key=lambda n: -sizes[n])]


def read_sheets(
    path: str, queue: SheetQueue, strings_part: str, limits: ReadLimits
) -> Iterator[tuple[str, PackedColumns | PackedGrid, SheetMarks]]:
    """Child side: marks and values of the sheets it takes from the queue, one at a time."""
    file = Path(path).name
    reader = _fast_reader(path)
    shared = functools.cache(lambda: _string_facts(path, strings_part))
    slow: dict[str, SheetMarks] = {}
    while (taken := queue.take()) is not None:
        name, part = taken
        marks = scan_parts(path, {name: part})[name]
        packed = None
        if reader is not None and not _wide(path, part):
            with _gc_paused():
                packed = read_columns(reader, name, marks, shared)
        if packed is None:
            slow[name] = marks
            continue
        _check_size(file, name, packed.height, packed.width, limits)
        yield name, packed, marks
    if slow:
        for name, grid in read_grids(path, limits, list(slow)):
            yield name, grid, slow[name]


def _wide(path: str, part: str) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return fast_read.header_too_wide(zf, part)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        return True  # python-calamine reads it, and says why if it cannot


def _fast_reader(path: str) -> Any:
    """A fastexcel reader of the file, or None (not installed, or it cannot open the file)."""
    if fast_read.fastexcel is None or fast_read.nanoarrow is None:
        return None
    try:
        # It logs a warning for each empty column: not news, and this is a child's stderr.
        logging.getLogger("fastexcel").setLevel(logging.ERROR)
        return fast_read.fastexcel.read_excel(path)
    except Exception:  # python-calamine reads it then, and says why if it cannot
        return None


def _string_facts(path: str, strings_part: str) -> StringFacts:
    try:
        with zipfile.ZipFile(path) as zf:
            return shared_string_facts(zf, strings_part)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return StringFacts(null_strings=True, nul_chars=True)


def _check_size(file: str, name: str, rows: int, cols: int, limits: ReadLimits) -> None:
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        ref = f"A1:{column_letter(cols - 1)}{rows}"
        raise refuse(file, "dimension", sheet=name, ref=ref, rows=rows, cols=cols)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a grid's row lists are built."""
    # Each batch of new lists would trigger a collection walking all of them: with 160,000
    # rows that doubles the time. Cells hold no reference cycles, so nothing leaks.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_grids(path: str, limits: ReadLimits, names: list[str]) -> list[tuple[str, PackedGrid]]:
    """Child side: values from A1 of the named sheets (charts and dialogs skipped), packed."""
    file = Path(path).name
    try:
        # from_path picks the format by extension; the bytes were sniffed, so go by them.
        with (
            _gc_paused(),
            open(path, "rb") as fh,
            calamine.CalamineWorkbook.from_filelike(fh) as book,
        ):
            grids = [
                (meta.name, pack_grid(_sheet_rows(book, meta.name, file, limits)))
                for meta in book.sheets_metadata
                if meta.typ not in _SKIPPED_KINDS and meta.name in names
            ]
    except calamine.PasswordError as exc:
        raise refuse(file, "encrypted") from exc
    except calamine.ZipError as exc:
        raise refuse(file, "corrupt_zip") from exc
    except calamine.XmlError as exc:
        raise refuse(file, "parse_xml", error=_short(exc)) from exc
    except calamine.CalamineError as exc:
        raise refuse(file, "parse_failed", error=_short(exc)) from exc
    return grids


def _sheet_rows(
    book: calamine.CalamineWorkbook, name: str, file: str, limits: ReadLimits
) -> list[list[Any]]:
    sheet = book.get_sheet_by_name(name)
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return []
    # The sniff trusted <dimension>; this is the range calamine actually found.
    _check_size(file, name, end[0] + 1, end[1] + 1, limits)
    rows, cols = end[0] + 1, end[1] + 1
    grid = sheet.to_python(skip_empty_area=False)
    return _from_a1(grid, start, rows, cols)


def _from_a1(
    grid: list[list[Any]], start: tuple[int, int], rows: int, cols: int
) -> list[list[Any]]:
    """grid anchored at A1: rows[0] is row 1 and column 0 is A, whatever calamine did."""
    if len(grid) == rows and all(len(r) == cols for r in grid[:1]):
        return grid  # skip_empty_area=False already pads from A1 (python-calamine 0.9)
    top, left = start
    pad = [""] * left
    return [[""] * cols for _ in range(top)] + [pad + row for row in grid]


def _put_errors(sheet: RawSheet, errors: dict[tuple[int, int], str]) -> None:
    """Error cells come from calamine as "": put their text (e.g. "#DIV/0!") back."""
    if sheet.native_columns:
        cols = sheet.columns
        for (r, c), text in errors.items():
            if c < len(cols) and r < len(cols[c]) and cols[c][r] in ("", None):
                if not isinstance(cols[c], np.ndarray):  # a text column's Categorical
                    cols[c] = np.asarray(cols[c], dtype=object)
                cols[c][r] = text
        return
    rows = sheet.rows
    for (r, c), text in errors.items():
        if r < len(rows) and c < len(rows[r]) and rows[r][c] in ("", None):
            rows[r][c] = text


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
