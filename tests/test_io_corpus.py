"""Every workbook of the shared robustness corpus is read or refused cleanly, within seconds.

Where openpyxl can open a file too, the formula cells and error texts load_raw reports must
be exactly the ones openpyxl sees: an independent check of the fast XML scan.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest

from kam.errors import UnreadableFileError
from kam.io.files import ReadLimits, load_raw

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "calamine-tests"
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in (".xlsx", ".xlsm"))
LIMITS = ReadLimits(timeout_s=15)  # a hang shows up as a refusal that names the timeout
EXPECTED_REFUSALS = {
    "pass_protected.xlsx": "文件已加密",
    "issue252.xlsx": "损坏",
}


def test_corpus_is_there() -> None:
    assert len(FILES) > 60


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_is_read_or_refused(path: Path) -> None:
    try:
        book = load_raw(path, LIMITS)
    except UnreadableFileError as err:
        assert path.name in EXPECTED_REFUSALS, err.reason
        assert EXPECTED_REFUSALS[path.name] in err.reason
        return
    assert path.name not in EXPECTED_REFUSALS
    assert book.file == path.name
    for sheet in book.sheets.values():
        widths = {len(row) for row in sheet.rows}
        assert len(widths) <= 1  # rectangular, anchored at A1
        for r, c in sheet.formulas:
            assert r < len(sheet.rows) and c < len(sheet.rows[r])
    _agrees_with_openpyxl(path, book)


def _agrees_with_openpyxl(path: Path, book) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            formulas = openpyxl.load_workbook(path)
            cached = openpyxl.load_workbook(path, data_only=True)
        except Exception:  # openpyxl is stricter than calamine on some corpus files
            return
    for ws in formulas.worksheets:
        # The cells the sheet holds, never its declared range (issue_174: A1:XFD1048576).
        expected = {(c.row - 1, c.column - 1) for c in ws._cells.values() if c.data_type == "f"}
        assert book.sheets[ws.title].formulas == expected, ws.title
    for ws in cached.worksheets:
        rows = book.sheets[ws.title].rows
        for c in ws._cells.values():
            if c.data_type == "e":
                assert rows[c.row - 1][c.column - 1] == c.value, c.coordinate


def test_strict_ooxml_and_backslash_paths_are_read() -> None:
    strict = load_raw(CORPUS / "strict_iso_paths.xlsx", LIMITS)
    assert len(strict.sheets["ml_out"].rows) == 76
    backslash = load_raw(CORPUS / "issue_530.xlsx", LIMITS)  # zip entries named xl\...
    assert list(backslash.sheets) == ["出勤分类组织汇总表"]


def test_error_cells_come_through_as_text() -> None:
    rows = load_raw(CORPUS / "errors.xlsx", LIMITS).sheets["Feuil1"].rows
    errors = ["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"]
    assert [r[0] for r in rows] == errors


def test_shared_formulas_count_every_cell() -> None:
    sheet = load_raw(CORPUS / "shared_formula_bench.xlsx", LIMITS).sheets["Sheet1"]
    assert len(sheet.formulas) == 100
