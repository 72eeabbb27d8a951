"""The column-wise fastexcel path gives exactly the values python-calamine gives.

kam.io.fast_read takes a sheet only where that is exact and hands every other sheet back to
python-calamine; these tests read the same files both ways and compare every cell.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kam.errors import UnreadableFileError
from kam.io import fast_read
from kam.io.files import ReadLimits, load_raw
from kam.io.raw import RawBook
from kam.reader import read_file
from kam.sample import QuarterSettings, write_quarter
from kam.validate import ValidateSettings, validate_file

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "calamine-tests"
LIMITS = ReadLimits(timeout_s=15)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def read() -> RawBook | str:
        try:
            return load_raw(path, LIMITS)
        except UnreadableFileError as err:
            return err.reason

    fast = read()
    with monkeypatch.context() as m:
        m.setattr(fast_read, "fastexcel", None)  # the reading children are forked: they see it
        slow = read()
    return fast, slow


def _assert_same(fast: object, slow: object) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    assert isinstance(fast, RawBook) and isinstance(slow, RawBook)
    assert list(fast.sheets) == list(slow.sheets)
    for name, sheet in slow.sheets.items():
        other = fast.sheets[name]
        assert other.formulas == sheet.formulas, name
        assert len(other.rows) == len(sheet.rows), name
        for r, (a, b) in enumerate(zip(other.rows, sheet.rows, strict=True)):
            assert [(type(v), v) for v in a] == [(type(v), v) for v in b], (name, r + 1)


def test_fastexcel_is_installed() -> None:
    assert fast_read.fastexcel is not None and fast_read.nanoarrow is not None


def test_sample_quarter_reads_the_same_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [p for p, _ in write_quarter(tmp_path, QuarterSettings()) if p.suffix == ".xlsx"]
    taken = 0
    for path in files:
        fast, slow = _both(path, monkeypatch)
        _assert_same(fast, slow)
        if isinstance(fast, RawBook):  # the quarter plants one fake .xlsx (a CSV)
            taken += sum(s.native_columns for s in fast.sheets.values())
    assert taken > len(files)  # the fast path is really used on clean sheets


def test_columns_as_categoricals_validate_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Short sheets keep object text and date columns; Categoricals give the same findings."""
    files = [p for p, _ in write_quarter(tmp_path, QuarterSettings()) if p.suffix == ".xlsx"]
    settings = ValidateSettings(today=dt.date(2026, 10, 15), limits=LIMITS)
    for path in files:
        plain = [f.to_json() for f in validate_file(path, settings).findings]
        with monkeypatch.context() as m:
            m.setattr(fast_read, "CATEGORICAL_ROWS", 0)
            categorical = [f.to_json() for f in validate_file(path, settings).findings]
        assert categorical == plain, path.name


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.xls[xm]")), ids=lambda p: p.name)
def test_corpus_reads_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(*_both(path, monkeypatch))


# Cells a branch file holds: the strings fastexcel would read as null, spaces, formula-like
# text, numbers, whole-day and timed dates, times of day, early-1900 dates, booleans, blanks.
CELLS = st.one_of(
    st.sampled_from(["NA", "null", "N/A", "nan", "None", " ", "=1+1", "+86 138", "abc", "中文"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=dt.datetime(1899, 12, 31), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.booleans(),
    st.none(),
)
# A column mostly of one kind (the case the fast path takes), sometimes mixed.
COLUMN = st.one_of(
    st.lists(CELLS, min_size=1, max_size=12),
    CELLS.flatmap(lambda v: st.lists(st.just(v), min_size=1, max_size=12)),
    st.lists(st.one_of(st.none(), st.sampled_from(["NA", "x", "null"])), min_size=1, max_size=6),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(COLUMN, min_size=1, max_size=4),
    header_gap=st.booleans(),
    categorical=st.booleans(),
)
def test_random_sheets_read_the_same_both_ways(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    columns: list[list[object]],
    header_gap: bool,
    categorical: bool,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表"
    for c, values in enumerate(columns, start=1):
        if not (header_gap and c == 2):
            ws.cell(1, c, f"列{c}")
        for r, value in enumerate(values, start=2):
            cell = ws.cell(r, c, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, not a formula
    path = tmp_path_factory.mktemp("fast") / "t.xlsx"
    wb.save(path)
    with monkeypatch.context() as m:
        if categorical:  # text and date columns of short sheets too arrive as Categoricals
            m.setattr(fast_read, "CATEGORICAL_ROWS", 0)
        _assert_same(*_both(path, monkeypatch))


def test_typed_columns_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "金额", "日期", "是否"])
    for i in range(50):
        ws.append([f"公司{i}", i * 1.5, dt.datetime(2026, 1, 1 + i % 28, 9 * (i % 2)), i % 3 == 0])
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    fast, slow = _both(path, monkeypatch)
    _assert_same(fast, slow)
    assert isinstance(fast, RawBook) and fast.sheets["Sheet"].native_columns
    assert isinstance(slow, RawBook) and not slow.sheets["Sheet"].native_columns


def _arrow_strings(cells: list[str | None]) -> tuple[bytes, bytes, np.ndarray | None]:
    """An Arrow string column's offsets and data buffers (nulls hold no bytes)."""
    encoded = [(c or "").encode("utf-8") for c in cells]
    offsets = np.zeros(len(cells) + 1, np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    valid = np.array([c is not None for c in cells])
    return offsets.tobytes(), b"".join(encoded), None if valid.all() else valid


# Short strings that share prefixes, lengths and bytes (and U+0000, which pads keys).
STRINGS = st.lists(
    st.one_of(
        st.none(),
        st.sampled_from(["", "a", "a\0", "ab", "华东", "华东分公司", "HT-0000001", "HT-0000010"]),
        st.text(alphabet="ab\0华", max_size=20),
        st.text(max_size=140),  # past the fixed-width keys: the factorize path
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(cells=STRINGS, collide=st.booleans())
def test_strings_decode_every_cell(cells: list[str | None], collide: bool) -> None:
    """Codes and distinct strings give back every cell ("" for nulls), each string once."""
    offsets, data, valid = _arrow_strings(cells)
    with pytest.MonkeyPatch.context() as m:
        if collide:  # every row hashes alike: the exact sort must take over
            m.setattr(fast_read, "_row_hash", lambda words: np.zeros(len(words), np.uint64))
        codes, strings = fast_read._strings(offsets, data, len(cells), valid)
    assert [strings[c] for c in codes] == [c or "" for c in cells]
    assert len(set(strings)) == len(strings)


def _shared_strings(items: list[tuple[str, str]]) -> bytes:
    """A sharedStrings part: each string plain, split in two rich-text runs, or escaped."""
    out = []
    for text, form in items:
        if form == "runs" and len(text) > 1:
            a, b = escape(text[:1]), escape(text[1:])
            out.append(f"<si><r><t>{a}</t></r><r><rPr><b/></rPr><t>{b}</t></r></si>")
        elif form == "escaped" and text:
            out.append(f"<si><t>_x{ord(text[0]):04X}_{escape(text[1:])}</t></si>")
        else:
            out.append(f'<si><t xml:space="preserve">{escape(text)}</t></si>')
    return f"<sst>{''.join(out)}</sst>".encode()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(sorted(fast_read.NULL_STRINGS)), st.text("Nna&_<>x ", max_size=6)
            ),
            st.sampled_from(["plain", "runs", "escaped"]),
        ),
        max_size=6,
    )
)
@example(items=[("NAN", "plain"), ("xnull", "plain")])  # holding a null string is not being one
@example(items=[("xnull", "runs")])
@example(items=[("<NA>", "plain")])
@example(items=[("NA", "escaped")])
def test_shared_strings_tell_whether_they_hold_a_null_string(items: list[tuple[str, str]]) -> None:
    """Strings fastexcel reads as null ("NA") are found, however written, and only those."""
    held = any(text in fast_read.NULL_STRINGS for text, _ in items)
    assert fast_read._holds_nulls(_shared_strings(items)) == held


def test_the_readers_blank_masks_are_isna_of_the_typed_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules ask SheetData.missing(); the reader fills it from distinct values, after
    dropping blank rows: it must be exactly isna() of what the rules see."""
    files = [p for p, _ in write_quarter(tmp_path, QuarterSettings()) if p.suffix == ".xlsx"]
    checked = 0
    for categorical in (False, True):
        with monkeypatch.context() as m:
            if categorical:
                m.setattr(fast_read, "CATEGORICAL_ROWS", 0)
            for path in files:
                try:
                    sub = read_file(path, LIMITS)
                except UnreadableFileError:
                    continue  # the planted fake .xlsx
                for data in sub.sheets.values():
                    for fid in data.present:
                        if fid in data.frame:
                            got = data.missing(fid)
                            assert got.tolist() == data.frame[fid].isna().tolist(), (path, fid)
                            assert got.index.equals(data.frame.index)
                            checked += 1
    assert checked > 100
