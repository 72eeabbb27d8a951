"""Read a workbook file into a RawBook safely: sniff the bytes, then parse in a child process.

load_raw() is the only way kam reads a file from disk. The format is decided from the
bytes (kam.io.sniff); python-calamine then reads every sheet in a child process under
memory, CPU and time limits (kam.io.isolate), while a second child finds formula cells
and error texts in the worksheet XML (kam.io.sheet_scan), which calamine does not report.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as calamine

from kam.errors import KamError
from kam.findings import column_letter
from kam.io.grid_codec import PackedGrid, pack_grid, unpack_grid
from kam.io.isolate import Isolated, run_isolated
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
    max_cells: int = 30_000_000  # from <dimension ref> of each sheet, and calamine's range
    timeout_s: float = 60.0
    memory_bytes: int = 4 * 2**30  # address space each reading child may add


DEFAULT_LIMITS = ReadLimits()
_SKIPPED_KINDS = (calamine.SheetTypeEnum.ChartSheet, calamine.SheetTypeEnum.DialogSheet)


def load_raw(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> RawBook:
    """Read every sheet's cell values (python-calamine) and formula-cell positions, isolated.

    Raises kam.errors.UnreadableFileError(file, reason_zh, reason_en) for anything it
    cannot read safely; the file is named by its base name.
    """
    path = Path(path)
    file = path.name
    package = sniff(path, limits)
    # Both children run at once: the XML scan costs about half of calamine's parse.
    scan = Isolated(scan_parts, (str(path), package.data_parts()), limits, file)
    try:
        grids = run_isolated(read_grids, (str(path), limits), limits, file)
        marks = scan.result()
    finally:
        scan.cancel()
    sheets: dict[str, RawSheet] = {}
    with _gc_paused():
        for name, packed in grids:
            rows = unpack_grid(packed)
            sheet_marks = marks.get(name, SheetMarks())
            _put_errors(rows, sheet_marks.errors)
            sheets[name] = RawSheet(name, rows, sheet_marks.formulas)
    return RawBook(file=file, sheets=sheets)


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


def read_grids(path: str, limits: ReadLimits) -> list[tuple[str, PackedGrid]]:
    """Child side: every non-chart sheet's values from A1, packed for the trip back."""
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
                if meta.typ not in _SKIPPED_KINDS
            ]
    except calamine.PasswordError as exc:
        raise refuse(file, "encrypted") from exc
    except calamine.ZipError as exc:
        raise refuse(file, "corrupt_zip") from exc
    except calamine.XmlError as exc:
        raise refuse(file, "parse_xml", error=_short(exc)) from exc
    except calamine.CalamineError as exc:
        raise refuse(file, "parse_failed", error=_short(exc)) from exc
    if not grids:
        raise refuse(file, "no_sheets")
    return grids


def _sheet_rows(
    book: calamine.CalamineWorkbook, name: str, file: str, limits: ReadLimits
) -> list[list[Any]]:
    sheet = book.get_sheet_by_name(name)
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return []
    rows, cols = end[0] + 1, end[1] + 1
    # The sniff trusted <dimension>; this is the range calamine actually found.
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        ref = f"A1:{column_letter(cols - 1)}{rows}"
        raise refuse(file, "dimension", sheet=name, ref=ref, rows=rows, cols=cols)
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


def _put_errors(rows: list[list[Any]], errors: dict[tuple[int, int], str]) -> None:
    """Error cells come from calamine as "": put their text (e.g. "#DIV/0!") back."""
    for (r, c), text in errors.items():
        if r < len(rows) and c < len(rows[r]) and rows[r][c] in ("", None):
            rows[r][c] = text


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
