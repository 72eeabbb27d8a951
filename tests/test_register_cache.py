"""The register's cache (kam.register.store): what the next merge reads of the register,
exactly as the workbook reads back, used only beside the sealed register it was written
with; anything else is ignored and the workbook is read as before."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isal import isal_zlib
from test_merge import CODES, branch_file, run, sheet_rows
from test_register_edits import CONTRACTS, A, B, _edit, _resubmit_a, _two_branches, h

from kam.register import previous as previous_module
from kam.register import store
from kam.register.columns import REG_BY_SOURCE, REG_TABLES, SOURCES
from kam.register.previous import Previous, previous_from_sheets, read_previous, register_sheets
from kam.register.seal import intact, sealed_cache
from kam.register.writer import RegisterData, write_register

CONTRACTS_SHEET = REG_BY_SOURCE["contracts"].sheet


def book_read(register: Path) -> Previous:
    """What the merge reads of a register without its cache: the workbook itself."""
    return previous_from_sheets(register_sheets(register), sealed=intact(register))


def same_frames(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    """Equal cell for cell, with the same Python type in every cell."""
    assert list(got.columns) == list(want.columns), what
    assert got.index.equals(want.index), what
    for c in want.columns:
        for i, (a, b) in enumerate(zip(got[c].tolist(), want[c].tolist(), strict=True)):
            same = a == b or (a != a and b != b)  # NaN: a column both sides fill alike
            assert type(a) is type(b) and same, (what, c, i, a, b)


def assert_cache_matches_book(register: Path) -> None:
    """The register has its cache, and what it gives is what the workbook gives."""
    digest = sealed_cache(register)
    assert digest, "a register just written is sealed and names its cache"
    data = store.load(register, digest)
    assert data is not None, "the cache beside it is the one it names"
    cached = read_previous(register)
    book = book_read(register)
    for key, frame in book.tables.items():
        same_frames(cached.tables[key], frame, key)
    for name in ("view", "refused", "sources", "submissions", "history", "repeats"):
        same_frames(getattr(cached, name), getattr(book, name), name)
    assert cached.hq == book.hq
    assert cached.edits == book.edits


def _no_workbook_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the small _kam_sources sheet (which files are new) may be read of the workbook."""
    real = previous_module.register_sheets

    def only_sources(path: Path, names: Any = None) -> Any:
        assert names is not None and set(names) == {SOURCES.sheet}, "cache not used"
        return real(path, names)

    monkeypatch.setattr(previous_module, "register_sheets", only_sources)


# -- the read-back, value by value ---------------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(
    ["", " ", " lead", "trail ", "=1+1", "@SUM(A1)", "a\r\nb", "x\ry", "_x000D_", "a&<b>", "\t"]
)
_NUMBER = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**62), 2**62)
_TIME = st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31))
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    _NUMBER,
    st.booleans(),
    _TIME,
    _TIME.map(pd.Timestamp),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.just(pd.NaT),
    st.just(np.float64(0.1) + np.float64(0.2)),
    st.integers(0, 10**6).map(np.int64),
)
_COLUMN = st.one_of(
    st.lists(_VALUE, min_size=1, max_size=6),  # mixed
    st.lists(_TEXT, min_size=1, max_size=6),  # texts only (the bulk path)
    st.lists(st.floats() | st.integers(-(10**9), 10**9), min_size=1, max_size=6),
    st.lists(_TIME | st.none(), min_size=1, max_size=6),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_cache_holds_what_the_workbook_reads_back(tmp_path_factory: Any, data: Any) -> None:
    form = REG_TABLES[0]
    n = data.draw(st.integers(1, 6))
    columns = {f.id: (data.draw(_COLUMN) * n)[:n] for f in form.fields if data.draw(st.booleans())}
    frame = pd.DataFrame(columns, index=range(n), dtype=object)
    register = tmp_path_factory.mktemp("cache") / "集团大客户名录.xlsx"
    reg = RegisterData.empty()
    reg.tables[form.id] = frame
    write_register(register, reg)
    assert reg.cache is not None
    frames = store.decode(reg.cache)
    assert frames is not None
    grids = register_sheets(register)
    for f in store.FORMS:
        if f.sheet == "_kam_rows":
            continue
        same_frames(frames[f.sheet], previous_module._typed(grids.get(f.sheet), f), f.sheet)


def test_a_date_before_1900_march_writes_no_cache(tmp_path: Path) -> None:
    # Excel's serials before 1900-03-01 do not read back as the same date: not modelled.
    register = tmp_path / "集团大客户名录.xlsx"
    reg = RegisterData.empty()
    form = REG_TABLES[0]
    reg.tables[form.id] = pd.DataFrame({form.fields[0].id: [dt.datetime(1899, 12, 31)]})
    write_register(register, reg)
    assert reg.cache is None
    assert sealed_cache(register) == ""  # sealed, and naming no cache


# -- merges ---------------------------------------------------------------------------------


def test_a_merge_leaves_its_cache_and_the_next_merge_reads_it_not_the_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, register = _two_branches(tmp_path)
    cache = store.cache_path(register)
    assert cache.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == stat.S_IMODE(register.stat().st_mode)
    assert_cache_matches_book(register)
    with monkeypatch.context() as m:
        _no_workbook_read(m)
        result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert result.written
    assert_cache_matches_book(register)
    left = sorted(p.name for p in register.parent.iterdir())
    assert left == sorted([register.name, cache.name, "history"])  # no temporary file


def test_a_register_saved_by_another_program_is_read_not_its_cache(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, CONTRACTS, {"source_unit": B}, "amount", 12345.5)  # saved by openpyxl
    assert store.cache_path(register).exists() and not intact(register)
    assert len(read_previous(register).edits.edited) == 1  # the edit is seen, not the cache
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    amounts = [r[h(CONTRACTS, "amount")] for r in sheet_rows(result.register, CONTRACTS.sheet)]
    assert 12345.5 in amounts
    assert_cache_matches_book(register)  # and the new register has its own cache


def test_a_changed_or_damaged_cache_is_not_used(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    cache = store.cache_path(register)
    want = book_read(register)
    for damage in (b"", b"not a pickle", cache.read_bytes()[:-10]):
        cache.write_bytes(damage)
        got = read_previous(register)
        same_frames(got.tables["contracts"], want.tables["contracts"], "contracts")
    cache.unlink()
    same_frames(read_previous(register).view, want.view, "view")
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert result.written and cache.exists()
    assert_cache_matches_book(register)


class _Plant:
    """Unpickled, it makes a folder: the proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (self.path,))


def test_a_cache_planted_with_code_runs_nothing(tmp_path: Path) -> None:
    # Someone who may write beside the register plants a pickle that would run code, and
    # names its digest in the register (custom.xml is outside the seal).
    planted = tmp_path / "ran"
    _, register = _two_branches(tmp_path)
    want = book_read(register)
    evil = isal_zlib.compress(pickle.dumps({"version": store.VERSION, "sheets": _Plant(planted)}))
    store.cache_path(register).write_bytes(evil)
    _name_cache(register, store.digest(evil))
    assert sealed_cache(register) == store.digest(evil)
    got = read_previous(register)
    assert not planted.exists()
    same_frames(got.tables["contracts"], want.tables["contracts"], "contracts")


def _name_cache(register: Path, digest: str) -> None:
    """Rewrite the register's custom.xml to name `digest` as its cache (worksheets kept)."""
    out = register.with_name("named.xlsx")
    with zipfile.ZipFile(register) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/custom.xml":
                old = sealed_cache(register)
                assert old
                data = data.replace(old.encode(), digest.encode())
            zout.writestr(item, data)
    out.replace(register)


def test_a_cache_that_cannot_be_written_leaves_the_merge_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, register = _two_branches(tmp_path)

    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[:100])  # a part is written, then the disk is full
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(store, "_write_file", full)
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    monkeypatch.undo()
    assert result.written
    assert not store.cache_path(register).exists()  # the old one no longer matches: gone
    assert sorted(p.name for p in register.parent.iterdir()) == sorted([register.name, "history"])
    same_frames(read_previous(register).view, book_read(register).view, "view")


def test_the_cache_inside_the_inbox_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    branch_file(folder, "a.xlsx", A, CODES[:2])
    register = folder / "集团大客户名录.xlsx"
    run(tmp_path, folder, register=register)
    assert store.cache_path(register).exists()
    result = run(tmp_path, folder, register=register)
    skipped = {s["file"] for s in result.skipped}
    assert store.cache_path(register).name in skipped
    assert [f.file for f in result.files] == ["a.xlsx"]


def test_a_cache_with_values_no_cell_holds_is_not_used(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    want = book_read(register)
    cache = store.cache_path(register)
    body = pickle.loads(isal_zlib.decompress(cache.read_bytes()))  # (our own file)
    sheet = body["sheets"][CONTRACTS_SHEET]
    sheet[0][0] = ["a", "list"]  # no cell reads back as a list
    forged = isal_zlib.compress(pickle.dumps(body))
    cache.write_bytes(forged)
    _name_cache(register, store.digest(forged))
    assert store.decode(forged) is None
    same_frames(read_previous(register).tables["contracts"], want.tables["contracts"], "c")


def test_a_cache_that_would_inflate_far_beyond_its_size_is_not_used(tmp_path: Path) -> None:
    # A well-formed cache, but one cell of 200 MB of one letter: a few hundred KB deflated.
    _, register = _two_branches(tmp_path)
    body = pickle.loads(isal_zlib.decompress(store.cache_path(register).read_bytes()))
    body["sheets"][CONTRACTS_SHEET][0][0] = "a" * (200 << 20)
    bomb = isal_zlib.compress(pickle.dumps(body), 3)
    assert len(bomb) < (2 << 20)
    assert store.decode(bomb) is None
