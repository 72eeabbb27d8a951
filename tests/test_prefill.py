"""Next quarter pre-filled (DOMAIN §9.3): written from the register, sent back, merged again."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import python_calamine as calamine

from kam.demo import run_demo
from kam.errors import UsageError
from kam.forms import CARDS, CONTRACTS, INFO, MAINTENANCE, RECEPTION, RISK, ROSTER
from kam.messages import Severity
from kam.prefill import PrefillSettings, prefill, quarter_end
from kam.prefill_record import PREFILL_SHEET
from kam.register import MergeSettings, merge
from kam.register.columns import CONFLICTS, REG_BY_SOURCE, REG_ROSTER
from kam.register.previous import read_previous
from kam.template import INSTRUCTIONS_SHEET
from kam.validate import ValidateSettings, validate_file

NEXT = "2026Q4"
RETURNED = dt.datetime(2027, 1, 8)
TODAY = dt.date(2027, 1, 12)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo quarter's register (2026Q3): 8 branches, rejections, 3 ownership conflicts."""
    folder = tmp_path_factory.mktemp("demo")
    run_demo(folder)
    return folder / "集团大客户名录.xlsx"


@pytest.fixture(scope="module")
def filled(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return prefill(PrefillSettings(demo, NEXT, tmp_path_factory.mktemp("prefill")))


def sheet(path: Path, name: str) -> list[list[Any]]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python()


def complete(src: Path, dst: Path, **over: Any) -> Path:
    """What the branch does: fill 填报人, 联系电话, 报送日期 (and any edits), save a copy."""
    wb = openpyxl.load_workbook(src)
    ws = wb[INFO.sheet]
    values = {"filler": "王敏", "phone": "021-62345678", "submitted_on": RETURNED}
    for r, f in enumerate(INFO.fields, start=1):
        if f.id in values:
            ws.cell(r, 2, values[f.id])
    for (sheet_name, cell), value in over.get("edits", {}).items():
        wb[sheet_name][cell] = value
    wb.save(dst)
    return dst


def test_one_workbook_per_branch_with_its_register_rows(demo: Path, filled: list[Any]) -> None:
    prev = read_previous(demo)
    view = prev.view
    assert sorted(f.branch for f in filled) == sorted(set(view["source_unit"]))
    for f in filled:
        assert f.path.name == f"{f.branch}_{NEXT}_报送.xlsx"
        info = {row[0]: row[1] for row in sheet(f.path, INFO.sheet)}
        assert info[INFO["unit"].header] == f.branch
        assert info[INFO["quarter"].header] == NEXT
        assert info[INFO["version"].header]
        for fid in ("filler", "phone", "submitted_on"):
            assert info[INFO[fid].header] == "", fid
        roster = sheet(f.path, ROSTER.sheet)[1:]
        keys = {r[1] for r in roster if r[1]}
        assert keys == set(view.loc[view["source_unit"] == f.branch, "uscc"])
        for form in (RECEPTION, RISK):  # this quarter's events: empty, only the header
            assert not [r for r in sheet(f.path, form.sheet)[1:] if any(r)]


def test_ledger_window_plus_open_money_and_open_issues_only(demo: Path, filled: list[Any]) -> None:
    prev = read_previous(demo)
    start = dt.datetime(quarter_end(NEXT).year - 5, 12, 31)
    for f in filled:
        contracts = prev.tables["contracts"]
        mine = contracts[contracts["source_unit"] == f.branch]
        keys = set(prev.view.loc[prev.view["source_unit"] == f.branch, "uscc"])
        wanted = {
            r["contract_no"]
            for r in mine.to_dict(orient="records")
            if r["uscc"] in keys
            and (r["signed_on"] >= start or r["pay_status"] == "逾期" or (r["receivable"] or 0) > 0)
        }
        got = {r[1] for r in sheet(f.path, CONTRACTS.sheet)[1:] if r[1]}
        assert got == wanted
        closed = MAINTENANCE.fields.index(MAINTENANCE["closed"])
        entries = [r for r in sheet(f.path, MAINTENANCE.sheet)[1:] if any(r)]
        assert all(r[closed] != "是" for r in entries)
        maint = prev.tables["maintenance"]
        open_rows = maint[(maint["source_unit"] == f.branch) & (maint["closed"] != "是")]
        assert len(entries) == int(open_rows["uscc"].isin(keys).sum())


def test_customers_given_to_another_unit_are_left_out_and_named(
    demo: Path, filled: list[Any]
) -> None:
    grid = sheet(demo, CONFLICTS.sheet)
    head = grid[0]
    lost = [dict(zip(head, r, strict=False)) for r in grid[1:] if r[head.index("是否采用")] != "是"]
    assert lost, "the demo plants ownership conflicts"
    for claim in lost:
        f = next(f for f in filled if f.branch == claim["来源单位"])
        code = claim["统一社会信用代码"]
        assert code not in {r[1] for r in sheet(f.path, ROSTER.sheet)[1:]}
        notes = "\n".join(str(r[0]) for r in sheet(f.path, INSTRUCTIONS_SHEET))
        assert code in notes and "归属已判给其他单位" in notes


def test_record_sheet_is_very_hidden(filled: list[Any]) -> None:
    with zipfile.ZipFile(filled[0].path) as z:
        workbook = z.read("xl/workbook.xml").decode()
    (tag,) = re.findall(f'<sheet name="{PREFILL_SHEET}"[^>]*>', workbook)
    assert 'state="veryHidden"' in tag


def test_hq_corrections_are_what_the_branch_gets(demo: Path, tmp_path: Path) -> None:
    register = shutil.copy(demo, tmp_path / demo.name)
    wb = openpyxl.load_workbook(register)
    ws = wb[REG_ROSTER.sheet]
    phone_col = 1 + REG_ROSTER.fields.index(REG_ROSTER["phone"])
    unit_col = 1 + REG_ROSTER.fields.index(REG_ROSTER["source_unit"])
    ws.cell(2, phone_col, "010-88886666")  # HQ corrects a phone number in the register
    branch, code = ws.cell(2, unit_col).value, ws.cell(2, 2).value
    wb.save(register)
    (out,) = prefill(PrefillSettings(Path(register), NEXT, tmp_path / "out", (branch,)))
    row = next(r for r in sheet(out.path, ROSTER.sheet) if r[1] == code)
    assert row[ROSTER.fields.index(ROSTER["phone"])] == "010-88886666"


def test_returned_untouched_validates_clean_and_merges_without_change(
    demo: Path, filled: list[Any], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    unfilled = 0  # required values the register lacks: rejected again until the branch fills them
    for f in filled:
        back = complete(f.path, inbox / f.path.name)
        report = validate_file(back, ValidateSettings(today=TODAY))
        errors = [x for x in report.findings if x.level is Severity.ERROR]
        # The only errors: required values the register itself lacks (华南 never sent the
        # 项目名称 column: its contracts merged with it blank), each named in 填报说明.
        notes = "\n".join(str(r[0]) for r in sheet(f.path, INSTRUCTIONS_SHEET))
        gaps: dict[tuple[str, str], int] = {}
        for x in errors:
            assert x.rule == "required" and x.params["value"] == "", x
            gaps[(x.sheet, x.column)] = gaps.get((x.sheet, x.column), 0) + 1
        for (sheet_name, column), n in gaps.items():
            assert f"{sheet_name}“{column}” {n} 处" in notes
        unfilled += len(errors)
        assert not [x for x in report.findings if x.rule == "prefill_changed"]
    register = Path(shutil.copy(demo, tmp_path / demo.name))
    before = read_previous(register)
    result = merge(MergeSettings(register=register, inbox=inbox, today=TODAY))
    assert result.totals["rejected"] == unfilled
    after = read_previous(register)
    data = [f.id for f in ROSTER.data_fields]
    old = before.view.set_index("uscc")[data[:1] + data[2:]].sort_index()
    new = after.view.set_index("uscc")[data[:1] + data[2:]].sort_index()
    pd.testing.assert_frame_equal(old, new)
    # The branch's current state is held once: no contract or card twice in the register.
    for form in (CONTRACTS, CARDS):
        rows = after.tables[form.id]
        key = "contract_no" if form is CONTRACTS else "uscc"
        dup = rows[rows.duplicated(["source_unit", key], keep=False)]
        assert dup.empty, f"{REG_BY_SOURCE[form.id].sheet}: {len(dup)} rows twice"


def test_edited_values_are_info_findings_at_their_cells(filled: list[Any], tmp_path: Path) -> None:
    f = next(f for f in filled if f.counts["roster"] and f.counts["contracts"])
    roster = sheet(f.path, ROSTER.sheet)
    phone = ROSTER.fields.index(ROSTER["phone"])
    old_phone = roster[1][phone]
    amount = CONTRACTS.fields.index(CONTRACTS["amount"])
    contracts = sheet(f.path, CONTRACTS.sheet)
    edits = {
        (ROSTER.sheet, f"{chr(65 + phone)}2"): "13900001111",
        (CONTRACTS.sheet, f"{chr(65 + amount)}2"): 99999,
    }
    back = complete(f.path, tmp_path / "back.xlsx", edits=edits)
    report = validate_file(back, ValidateSettings(today=TODAY))
    changed = [x for x in report.findings if x.rule == "prefill_changed"]
    assert {(x.sheet, x.cell) for x in changed} == set(edits)
    assert all(x.level is Severity.INFO for x in changed)
    by_sheet = {x.sheet: x for x in changed}
    assert by_sheet[ROSTER.sheet].params["before"] == str(old_phone)
    assert "原为" in by_sheet[ROSTER.sheet].message("zh")
    assert by_sheet[CONTRACTS.sheet].params["value"] == "99999"
    assert by_sheet[CONTRACTS.sheet].params["before"] == f"{contracts[1][amount]:g}"


def test_a_row_the_branch_adds_is_not_a_change(filled: list[Any], tmp_path: Path) -> None:
    f = filled[0]
    n = f.counts["contracts"] + 2
    edits = {(CONTRACTS.sheet, f"B{n}"): "HT-NEW-001", (CONTRACTS.sheet, f"A{n}"): "X"}
    back = complete(f.path, tmp_path / "back.xlsx", edits=edits)
    report = validate_file(back, ValidateSettings(today=TODAY))
    assert not [x for x in report.findings if x.rule == "prefill_changed"]


def test_never_over_an_existing_file(demo: Path, filled: list[Any]) -> None:
    f = filled[0]
    again = prefill(PrefillSettings(demo, NEXT, f.path.parent, (f.branch,)))
    assert again[0].path.name == f"{f.branch}_{NEXT}_报送(2).xlsx"


@pytest.mark.parametrize(
    ("quarter", "branches", "what"),
    [("2026-Q4", (), "YYYYQn"), (NEXT, ("不存在分公司",), "不存在分公司")],
)
def test_bad_arguments_are_usage_errors(
    demo: Path, tmp_path: Path, quarter: str, branches: tuple[str, ...], what: str
) -> None:
    with pytest.raises(UsageError, match=what):
        prefill(PrefillSettings(demo, quarter, tmp_path, branches))


def test_cli_writes_the_named_branches(demo: Path, tmp_path: Path) -> None:
    branch = read_previous(demo).view["source_unit"].iloc[0]
    args = [sys.executable, "-m", "kam", "template", "--prefill", str(demo), "--quarter", NEXT]
    done = subprocess.run(
        [*args, "--branch", branch, "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{branch}_{NEXT}_报送.xlsx"]
    assert branch in done.stdout
    missing = subprocess.run(
        [*args[:5], str(tmp_path / "无.xlsx"), "--quarter", NEXT], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert "找不到集团名录" in missing.stdout + missing.stderr


def test_button_on_the_register_asks_and_prefills(demo: Path, tmp_path: Path) -> None:
    from kam.io.openpyxl_book import OpenpyxlBook
    from macros import new_template

    branch = read_previous(demo).view["source_unit"].iloc[0]
    book = OpenpyxlBook.open(Path(shutil.copy(demo, tmp_path / demo.name)))
    book.answers = [None]
    new_template.run(book, tmp_path)
    assert book.alerts[-1] == (new_template.TITLE, new_template.CANCELLED)
    assert book.questions[0][1] == NEXT  # the quarter after the register's latest
    book.answers = [NEXT, f"{branch}、"]
    new_template.run(book, tmp_path)
    written = tmp_path / f"预填报送_{NEXT}" / f"{branch}_{NEXT}_报送.xlsx"
    assert written.is_file(), book.alerts[-1]
    assert str(written.parent) in book.alerts[-1][1]
    book.unsaved = True
    new_template.run(book, tmp_path)
    assert "请先保存名录" in book.alerts[-1][1]
