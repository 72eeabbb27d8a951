"""The spliced row XML (kam.register.sheet_rows) reads back exactly as xlsxwriter's own cells.

Each example writes the same values twice, once cell by cell with xlsxwriter and once as
spliced rows, and compares what openpyxl and python-calamine read from both files, and the
fingerprints the rows were recorded with against what is read back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import python_calamine as calamine
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kam.forms import Field, Form
from kam.register.fingerprints import Fingerprints, Spec, canonical_row
from kam.register.sheet_rows import CELL_LIMIT, RowWriter, Styles, splice
from kam.register.writer import WORKBOOK_OPTIONS, _Cells

TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(["&", "<", ">", "\r", "\n", "\t", " ", "_x0041_", "=", "\ufffe", "\x01"]),
    ),
    max_size=12,
).map("".join)
VALUE = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["=1+1", "+86 138", "@SUM(A1)", " 前后空格 ", "_x000D_", "a\r\nb"]),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 1e307 < abs(v) < 1e309),
    # (Excel's numbers end at 9.99E+307)
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
)
FORM = Form("t", "表", (Field("a", "甲"), Field("b", "乙"), Field("c", "丙")))


def _write(path: Path, frame: pd.DataFrame, spliced: bool) -> tuple[list[str], Fingerprints]:
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    notes: list[str] = []
    cells = _Cells(wb, notes)
    ws = wb.add_worksheet(FORM.sheet)
    for c, f in enumerate(FORM.fields):
        ws.write_string(0, c, f.header, cells.header)
    prints = Fingerprints()
    ids = [f.id for f in FORM.fields]
    spec = Spec(FORM, tuple(ids))
    rows = RowWriter(
        Styles(cells.date._get_xf_index(), cells.datetime._get_xf_index()), path.parent, notes
    )
    if spliced:
        rows.add(FORM.sheet, ws.index, frame, (prints.sheet(FORM.sheet), spec, ids))
    else:
        for r, values in enumerate(frame.itertuples(index=False, name=None), start=1):
            written = [cells.put(ws, r, c, v) for c, v in enumerate(values)]
            if any(written):
                prints.sheet(FORM.sheet).add(written, spec, ids)
    wb.close()
    if spliced:
        splice(path, rows.sheets)
    return notes, prints


def _rows(prints: Fingerprints) -> dict[str, int]:
    found = prints.sheets.get(FORM.sheet)
    return dict(found.rows) if found else {}


def _cells(path: Path) -> list[list[tuple[object, str]]]:
    ws = openpyxl.load_workbook(path)[FORM.sheet]
    return [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(VALUE, VALUE, VALUE), max_size=8))
# Equal values of other types share no XML (True == 1 == 1.0), and a repeated cut text is
# reported at each of its cells.
@example(rows=[(True, 1, "长" * 40000), (1, True, "长" * 40000), (1.0, 0, None), (False, 0.0, "x")])
# A time half a millisecond off a whole one is written rounded, so it reads back as recorded.
@example(rows=[(None, None, dt.datetime(2000, 1, 1, 0, 0, 0, 274500))])
def test_spliced_rows_read_back_like_xlsxwriter_cells(
    tmp_path_factory, rows: list[tuple[object, object, object]]
) -> None:
    folder = tmp_path_factory.mktemp("rows")
    frame = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=object)
    slow_notes, slow_prints = _write(folder / "slow.xlsx", frame, spliced=False)
    fast_notes, fast_prints = _write(folder / "fast.xlsx", frame, spliced=True)
    assert _cells(folder / "fast.xlsx") == _cells(folder / "slow.xlsx")
    assert fast_notes == slow_notes
    assert _rows(fast_prints) == _rows(slow_prints)
    # What was recorded is what reads back (the next merge's edit detection relies on it).
    grid = calamine.load_workbook(str(folder / "fast.xlsx")).get_sheet_by_name(FORM.sheet)
    read = Fingerprints()
    ids = [f.id for f in FORM.fields]
    for values in grid.to_python()[1:]:
        written = canonical_row([*values, "", "", ""][:3])
        if any(written):
            read.sheet(FORM.sheet).add(written, Spec(FORM, tuple(ids)), ids)
    assert _rows(read) == _rows(fast_prints)


def test_text_over_the_cell_limit_is_cut_and_reported(tmp_path: Path) -> None:
    long = "长" * (CELL_LIMIT + 10)
    frame = pd.DataFrame([[long, "x", None]], columns=["a", "b", "c"], dtype=object)
    notes, _ = _write(tmp_path / "long.xlsx", frame, spliced=True)
    assert notes == ["表!A2"]
    value = openpyxl.load_workbook(tmp_path / "long.xlsx")[FORM.sheet]["A2"].value
    assert len(value) == CELL_LIMIT and value.endswith("已截断】")


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.one_of(TEXT, st.sampled_from(["=1", " a", "a ", "a\n", "_x", "é"])), unique=True
    )
)
def test_plain_texts_written_without_a_call_each_match_the_one_by_one_xml(texts: list[str]) -> None:
    # The column writer wraps most texts in <t> directly; the rest go through _tail().
    rows = RowWriter(Styles(1, 2, 3), Path("."), [])
    values = np.array(texts, dtype=object)
    xml, back, cuts = rows._distinct(values, {str})
    assert [(x, b, bool(c)) for x, b, c in zip(xml, back, cuts, strict=True)] == [
        rows._tail(t) for t in texts
    ]


@settings(max_examples=300, deadline=None)
@given(
    numbers=st.lists(
        st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True)),
        unique=True,
    )
)
def test_numbers_written_without_a_call_each_match_the_one_by_one_xml(numbers: list) -> None:
    rows = RowWriter(Styles(1, 2, 3), Path("."), [])
    values = np.array([*numbers, None], dtype=object)[:-1]
    xml, back, cuts = rows._distinct(values, set(map(type, numbers)))
    assert [(x, b, bool(c)) for x, b, c in zip(xml, back, cuts, strict=True)] == [
        rows._tail(v) for v in numbers
    ]
