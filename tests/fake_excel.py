"""A fake Excel answering the xlwings calls kam addin selftest makes (App.books.open,
App.macro, App.calculate, Book.sheets / close / activate / fullname, Sheet.used_range,
Range.value / formula).

Its workbooks are kam's headless OpenpyxlBook held in memory and never saved, as in Excel;
its KamRun does what the add-in's KamRun does, macros.<job>.main(), with the same
arguments main() would pass; calculate() evaluates =KA_...(...) formulas with addin.udfs,
as Excel would through the wrappers. `broken` switches off one job or function so the
tests see the selftest fail.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import coordinate_from_string, range_boundaries

from addin import udfs
from addin.build import kam_version
from kam.io.openpyxl_book import OpenpyxlBook
from macros.new_template import target_folder

_CALL = re.compile(r"^=(\w+)\((.*)\)$")
_ARG = re.compile(r'"[^"]*"|[^,]+')


class FakeRange:
    def __init__(self, sheet: FakeSheet, address: str) -> None:
        self.sheet, self.address = sheet, address

    @property
    def value(self) -> Any:
        ws = self.sheet.ws
        if ":" in self.address:
            c1, r1, c2, r2 = range_boundaries(self.address)
            return [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        return ws[self.address].value

    @value.setter
    def value(self, value: Any) -> None:
        c1, r1, c2, r2 = range_boundaries(self.address)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                self.sheet.ws.cell(r, c).value = value  # xlwings fills a range with a scalar

    @property
    def formula(self) -> str:
        return self.sheet.formulas.get(self.address, "")

    @formula.setter
    def formula(self, text: str) -> None:
        self.sheet.formulas[self.address] = text


class FakeSheet:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.formulas: dict[str, str] = {}

    @property
    def name(self) -> str:
        return str(self.ws.title)

    @property
    def used_range(self) -> Any:
        rows = [list(r) for r in self.ws.iter_rows(values_only=True)]
        return type("Used", (), {"value": rows})()

    def range(self, address: str) -> FakeRange:
        return FakeRange(self, address)


class FakeBook:
    def __init__(self, app: FakeExcel, path: Path) -> None:
        self.app = app
        self.kam = OpenpyxlBook.open(path) if path.suffix != ".xlam" else None
        self.fullname = str(path)
        self.closed = False
        self._sheets: dict[str, FakeSheet] = {}

    @property
    def sheets(self) -> _Sheets:
        return _Sheets(self)

    def activate(self) -> None:
        self.app.active = self

    def close(self) -> None:
        self.closed = True
        self.app.opened.remove(self)


class _Sheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book

    def _sheet(self, ws: Any) -> FakeSheet:
        return self.book._sheets.setdefault(ws.title, FakeSheet(ws))

    def __iter__(self) -> Iterator[FakeSheet]:
        assert self.book.kam is not None
        return iter([self._sheet(ws) for ws in self.book.kam.wb.worksheets])

    def __getitem__(self, key: str | int) -> FakeSheet:
        assert self.book.kam is not None
        wb = self.book.kam.wb
        return self._sheet(wb.worksheets[key] if isinstance(key, int) else wb[key])


class _Books:
    def __init__(self, app: FakeExcel) -> None:
        self.app = app

    def open(self, path: str) -> FakeBook:
        book = FakeBook(self.app, Path(path))
        self.app.opened.append(book)
        if book.kam is not None:
            self.app.active = book
        return book

    def __iter__(self) -> Iterator[FakeBook]:
        return iter(list(self.app.opened))


class FakeExcel:
    """The App. broken: a job name or function name that does nothing / answers wrong."""

    def __init__(self, broken: str = "") -> None:
        self.broken = broken
        self.opened: list[FakeBook] = []
        self.active: FakeBook | None = None
        self.books = _Books(self)
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def macro(self, name: str) -> Callable[..., Any]:
        assert name.startswith("'kam.xlam'!"), name
        procedure = name.split("!", 1)[1]
        if procedure == "KamVersion":
            return lambda: "" if self.broken == "KamVersion" else kam_version()
        assert procedure == "KamRun", procedure
        return self._kam_run

    def _kam_run(self, job: str, folder: str = "") -> None:
        self.calls.append((job, (folder,) if folder else ()))
        if job == self.broken:
            return
        book = self.active
        assert book is not None and book.kam is not None
        module = importlib.import_module(f"macros.{job}")
        if job == "merge":
            module.run(book.kam, Path(folder) if folder else None)
        elif job == "new_template":
            module.run(book.kam, target_folder(book.fullname))
        else:
            module.run(book.kam)
        for path in book.kam.opened:  # what XlwingsBook.open_file does in Excel
            self.books.open(str(path))
        book.kam.opened.clear()

    def calculate(self) -> None:
        for book in self.opened:
            for sheet in book._sheets.values():
                for address, formula in sheet.formulas.items():
                    sheet.ws[address].value = self._evaluate(sheet, formula)

    def _evaluate(self, sheet: FakeSheet, formula: str) -> Any:
        m = _CALL.match(formula)
        assert m, formula
        args: list[Any] = []
        for raw in _ARG.findall(m.group(2)):
            raw = raw.strip()
            if raw.startswith('"'):
                args.append(raw.strip('"'))
            elif ":" in raw:
                args.append(sheet.range(raw).value)
            else:
                coordinate_from_string(raw)  # a cell reference, or a ValueError
                args.append(sheet.range(raw).value)
        if m.group(1) == self.broken:
            return "#VALUE!"
        result = getattr(udfs, m.group(1))(*args)
        return result[0][0] if isinstance(result, list) else result  # the spill's top cell
