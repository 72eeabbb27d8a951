"""The register's seal (kam.register.seal): a merge skips the row-by-row hand-edit scan only
for a register no program saved since kam wrote it; any other save is scanned in full."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
from test_merge import CODES, branch_file, run
from test_register_edits import CONTRACTS, A, B, _edit, _resubmit_a, _two_branches

from kam.register.previous import read_previous
from kam.register.seal import intact


def test_a_merged_register_is_sealed_and_reads_back_without_edits(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    assert intact(register)
    scan = read_previous(register).edits
    assert scan.known and scan.edited == [] and scan.missing == {}
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert intact(result.register)
    assert result.to_json()["hand_edits"] == {
        "checked": True, "kept": 0, "removed": 0, "lost": [], "lost_file": None,
    }  # fmt: skip


def test_a_register_saved_by_another_program_is_scanned(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    wb = openpyxl.load_workbook(register)
    wb.save(register)  # saved unchanged: the seal no longer matches, and nothing is edited
    assert not intact(register)
    scan = read_previous(register).edits
    assert scan.known and scan.edited == []
    _edit(register, CONTRACTS, {"source_unit": B}, "amount", 777.0)
    assert len(read_previous(register).edits.edited) == 1


def test_a_worksheet_changed_inside_the_package_breaks_the_seal(tmp_path: Path) -> None:
    # The custom property survives an edit that rewrites only one sheet's XML (a script, a
    # zip tool): the hash of the worksheets tells, and the edit is found and kept.
    _, register = _two_branches(tmp_path)
    edited = tmp_path / "edited.xlsx"
    done = False
    with zipfile.ZipFile(register) as zin, zipfile.ZipFile(edited, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if not done and item.filename.startswith("xl/worksheets/") and _NUMBER.search(data):
                data, done = _change_first_number(data), True
            zout.writestr(item, data)
    edited.replace(register)
    assert done and not intact(register)
    assert len(read_previous(register).edits.edited) == 1
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert result.to_json()["hand_edits"]["checked"]
    assert result.to_json()["hand_edits"]["kept"] + len(result.to_json()["hand_edits"]["lost"]) == 1


_NUMBER = re.compile(rb'<row r="2">.*?<c r="[A-Z]+2"(?: s="\d+")?><v>([0-9.E+-]+)</v>')


def _change_first_number(xml: bytes) -> bytes:
    """The first numeric cell of the data rows, plus one."""
    m = _NUMBER.search(xml)
    assert m is not None
    value = float(m.group(1)) + 1
    return xml[: m.start(1)] + f"{value:.16G}".encode() + xml[m.end(1) :]


def test_a_register_without_a_seal_is_scanned(tmp_path: Path) -> None:
    # Registers written before the seal: the custom property is missing.
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", A, CODES[:2])
    register = run(tmp_path, inbox).register
    stripped = tmp_path / "stripped.xlsx"
    with zipfile.ZipFile(register) as zin, zipfile.ZipFile(stripped, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/custom.xml":
                data = data.replace(b'name="kam_sheets"', b'name="other"')
            zout.writestr(item, data)
    assert not intact(stripped)
    assert read_previous(stripped).edits.known
