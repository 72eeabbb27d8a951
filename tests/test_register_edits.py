"""HQ's hand edits in the register (issue 5, item 3): kept across merges, or listed as lost.

Every edit is made the way HQ makes it, in the register file between two merges (openpyxl
stands in for Excel here); the next merge must keep it or name it in its report.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import kam
from test_merge import CODES, branch_file, customer, deal, info, run, sheet_rows, submit

from kam.forms import Form
from kam.register.columns import REG_ROSTER, REG_TABLES
from kam.register.previous import previous_from_sheets, register_sheets
from kam.register.seal import intact

A, B = "华东分公司", "华南分公司"
CONTRACTS = REG_TABLES[0]  # the register's 合同台账, with provenance columns


def _two_branches(tmp: Path) -> tuple[Path, Path]:
    inbox = tmp / "in"
    branch_file(inbox, "a.xlsx", A, CODES[:2])
    branch_file(inbox, "b.xlsx", B, CODES[2:4])
    return inbox, run(tmp, inbox).register


def h(form: Form, field_id: str) -> str:
    """A register column's header, from the form definition."""
    return next(f.header for f in form.fields if f.id == field_id)


def _edit(register: Path, form: Form, where: dict[str, Any], field_id: str, value: Any) -> None:
    """Set one cell of the first row whose columns match `where` (as HQ would in Excel)."""
    wb = openpyxl.load_workbook(register)
    ws = wb[form.sheet]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if all(row[head.index(h(form, k))].value == v for k, v in where.items()):
            row[head.index(h(form, field_id))].value = value
            break
    else:
        raise AssertionError(f"no row {where} in {form.sheet}")
    wb.save(register)


def _resubmit_a(tmp: Path, codes: list[str]) -> Path:
    again = tmp / f"again{len(codes)}"
    branch_file(again, "a-v2.xlsx", A, codes)
    return again


def test_edit_in_a_stored_sheet_is_kept(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, CONTRACTS, {"source_unit": B}, "amount", 12345.5)
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert result.written
    amounts = [r[h(CONTRACTS, "amount")] for r in sheet_rows(result.register, CONTRACTS.sheet)]
    assert 12345.5 in amounts
    edits = result.to_json()["hand_edits"]
    assert edits["checked"] and edits["kept"] == 1 and edits["lost"] == []


def test_sorting_rows_is_not_an_edit(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    wb = openpyxl.load_workbook(register)
    ws = wb[CONTRACTS.sheet]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    for r, values in enumerate(reversed(rows), start=2):  # HQ sorts the sheet
        for c, v in enumerate(values, start=1):
            ws.cell(r, c, v)
    wb.save(register)
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    edits = result.to_json()["hand_edits"]
    assert edits == {"checked": True, "kept": 0, "removed": 0, "lost": [], "lost_file": None}


def test_edit_replaced_by_a_resubmission_is_listed(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, CONTRACTS, {"source_unit": A}, "project", "HQ 改过的项目名")
    result = run(tmp_path, _resubmit_a(tmp_path, [*CODES[:2], CODES[5]]))
    lost = result.to_json()["hand_edits"]["lost"]
    assert len(lost) == 1
    assert lost[0]["sheet"] == CONTRACTS.sheet and lost[0]["row"] >= 2
    assert "HQ 改过的项目名" in lost[0]["hand_value"]
    assert "重新报送" in lost[0]["reason"]


def test_edit_in_a_computed_column_is_listed(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, REG_ROSTER, {"uscc": CODES[2]}, "calc_tier", "集团级")
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    lost = result.to_json()["hand_edits"]["lost"]
    assert [(e["key"], e["columns"], e["hand_value"]) for e in lost] == [
        (CODES[2], ["计算等级"], "集团级")
    ]
    assert "HQ备注" in lost[0]["reason"]
    roster = {r["统一社会信用代码"]: r for r in sheet_rows(result.register, REG_ROSTER.sheet)}
    assert roster[CODES[2]]["计算等级"] == lost[0]["new_value"] != "集团级"


def test_added_column_and_deleted_row_are_reported(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    wb = openpyxl.load_workbook(register)
    ws = wb[REG_ROSTER.sheet]
    extra = ws.max_column + 1
    ws.cell(1, extra, "跟进人")
    ws.cell(2, extra, "张三")
    ws.cell(3, extra, "李四")
    contracts = wb[CONTRACTS.sheet]
    contracts.delete_rows(contracts.max_row)  # HQ deletes a contract of B by hand
    wb.save(register)
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    edits = result.to_json()["hand_edits"]
    assert edits["removed"] == 1
    assert [(e["sheet"], e["columns"], e["hand_value"]) for e in edits["lost"]] == [
        (REG_ROSTER.sheet, ["跟进人"], "2 个非空单元格")
    ]
    assert len(sheet_rows(result.register, CONTRACTS.sheet)) == 3 + 2 - 1


def test_hq_note_of_a_removed_customer_is_listed(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, REG_ROSTER, {"uscc": CODES[1]}, "hq_note", "年底回访")
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:1]))  # A drops that customer
    lost = result.to_json()["hand_edits"]["lost"]
    assert [(e["key"], e["columns"], e["hand_value"]) for e in lost] == [
        (CODES[1], ["HQ备注"], "年底回访")
    ]


def test_register_without_fingerprints_is_not_judged(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    wb = openpyxl.load_workbook(register)
    del wb["_kam_rows"]  # e.g. a register an older version wrote
    wb.save(register)
    result = run(tmp_path, _resubmit_a(tmp_path, CODES[:3]))
    assert result.to_json()["hand_edits"] == {
        "checked": False,
        "kept": 0,
        "removed": 0,
        "lost": [],
        "lost_file": None,
    }


# Values a branch may send: any text (incl. formula-like), fractions, big and tiny amounts,
# dates with a time of day. Read back from the written register, none may look edited.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
AMOUNT = st.floats(min_value=0.01, max_value=1e9, allow_nan=False).map(lambda v: round(v, 4))
DAY = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    projects=st.lists(TEXT, min_size=1, max_size=4),
    amounts=st.lists(AMOUNT, min_size=4, max_size=4),
    signed=DAY,
    remark=TEXT,
)
def test_untouched_register_reads_back_unedited(
    tmp_path_factory, projects: list[str], amounts: list[float], signed: dt.datetime, remark: str
) -> None:
    tmp = tmp_path_factory.mktemp("fp")
    code = CODES[5]
    rows = {
        "roster": [customer(code, A, remark=remark)],
        "contracts": [
            deal(code, f"HT-{i}", amounts[i], project=p, signed_on=signed.replace(microsecond=0))
            for i, p in enumerate(projects)
        ],
    }
    (tmp / "in").mkdir()
    submit(tmp / "in" / "a.xlsx", info(A), rows)
    result = run(tmp, tmp / "in")
    assert intact(result.register)  # a merge skips the scan for it: check the scan itself
    scan = previous_from_sheets(register_sheets(result.register)).edits
    assert scan.known
    assert scan.edited == [] and scan.computed == [] and scan.extra_columns == []
    assert set(scan.missing.values()) <= {0}


def test_cli_lists_lost_edits_and_json_has_them(tmp_path: Path) -> None:
    _, register = _two_branches(tmp_path)
    _edit(register, REG_ROSTER, {"uscc": CODES[1]}, "hq_note", "年底回访")
    again = _resubmit_a(tmp_path, CODES[:1])
    done = kam("merge", str(again), "--register", str(register), "--today", "2026-10-20")
    assert done.returncode == 0, done.stderr
    assert "未能保留的手工修改（1 处）" in done.stdout and "年底回访" in done.stdout
    assert "合并中" not in done.stderr  # piped: no progress-bar frame in the log
    shutil.copy2(again / "a-v2.xlsx", again / "a-v3.xlsx")  # same rows: nothing to write
    as_json = kam("merge", str(again), "--register", str(register), "--json")
    document = json.loads(as_json.stdout)
    assert document["hand_edits"]["checked"] is False and document["written"] is False
