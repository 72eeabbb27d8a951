"""Row files written by two forked processes (kam.register.parallel_rows) are the files one
process writes: same bytes, same cut cells, same fingerprints; a merge reads them back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from test_merge import CODES, branch_file, run
from test_register_edits import CONTRACTS, A, B, _edit

from kam.forms import Field, Form
from kam.register import parallel_rows
from kam.register.fingerprints import Fingerprints, Spec
from kam.register.previous import read_previous
from kam.register.sheet_rows import CELL_LIMIT, RowWriter, Styles

FORMS = [Form(f"t{i}", f"表{i}", (Field("a", "甲"), Field("b", "乙"))) for i in range(4)]


def _frames() -> list[pd.DataFrame]:
    long = "长" * (CELL_LIMIT + 5)
    return [
        pd.DataFrame({"a": [f"x{i}" for i in range(300)], "b": range(300)}, dtype=object),
        pd.DataFrame({"a": [long, "=1+1", None], "b": [dt.datetime(2024, 1, 2), True, 1.5]}),
        pd.DataFrame({"a": [], "b": []}, dtype=object),
        pd.DataFrame({"a": ["y"] * 50, "b": [long] * 50}, dtype=object),
    ]


def _write(folder: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setattr(parallel_rows, "PARALLEL_FROM", 0 if parallel else 10**9)
    folder.mkdir()
    notes: list[str] = []
    rows = RowWriter(Styles(1, 2, 3), folder, notes, pending=[])
    prints = Fingerprints()
    for i, (form, frame) in enumerate(zip(FORMS, _frames(), strict=True)):
        ids = [f.id for f in form.fields]
        rows.add(form.sheet, i, frame, (prints.sheet(form.sheet), Spec(form, tuple(ids)), ids))
    assert rows.sheets == []  # put off until write_pending
    parallel_rows.write_pending(rows)
    files = [(s.part, s.last_row, s.last_col, s.file.read_bytes()) for s in rows.sheets]
    return files, notes, {n: (dict(p.rows), p.computed) for n, p in prints.sheets.items()}


def test_two_processes_write_what_one_writes(tmp_path: Path, monkeypatch) -> None:
    one = _write(tmp_path / "one", False, monkeypatch)
    two = _write(tmp_path / "two", True, monkeypatch)
    assert two == one
    assert one[1][:2] == ["表1!A2", "表3!B2"]  # cut cells, sheet after sheet, row by row


def test_a_register_written_by_two_processes_reads_back_and_finds_edits(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(parallel_rows, "PARALLEL_FROM", 0)
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", A, CODES[:2])
    branch_file(inbox, "b.xlsx", B, CODES[2:4])
    register = run(tmp_path, inbox).register
    prev = read_previous(register)
    assert prev.edits.known and prev.edits.edited == []
    assert len(prev.tables["contracts"]) > 0
    _edit(register, CONTRACTS, {"source_unit": B}, "amount", 4321.0)
    assert len(read_previous(register).edits.edited) == 1
