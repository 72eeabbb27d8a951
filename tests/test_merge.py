"""Consolidation into the HQ register (DOMAIN §5): accounting, idempotency, ownership, tiers."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine as calamine
from builders import card_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.forms import CARDS, CONTRACTS, INFO, RECEPTION, ROSTER, TEMPLATE_VERSION
from kam.register import MergeSettings, merge
from kam.register.columns import (
    CHANGES,
    CONFLICTS,
    REG_ROSTER,
    REG_TABLES,
    REGISTER_SHEETS,
    REJECTED,
    SUBMISSIONS,
)
from kam.register.intake import STATUS_TEXT
from kam.register.writer import write_blank_register
from kam.sample import write_quarter
from kam.sample.quarter import QuarterSettings
from kam.template import Layout, write_submission
from kam.uscc import make_uscc

TODAY = dt.date(2026, 10, 20)
CODES = [make_uscc(i) for i in range(40)]


def submit(path: Path, info: dict[str, Any], rows: dict[str, list[dict[str, Any]]]) -> Path:
    """A branch workbook; few validated rows keep the files (and the tests) small."""
    return write_submission(path, info, rows, layout=Layout(data_rows=20))


def info(unit: str, quarter: str = "2026Q3", **over: Any) -> dict[str, Any]:
    base = {
        "unit": unit,
        "quarter": quarter,
        "filler": "王敏",
        "phone": "021-62345678",
        "submitted_on": dt.datetime(2026, 10, 10),
        "version": TEMPLATE_VERSION,
    }
    return {**base, **over}


def customer(code: str, owner_unit: str, **over: Any) -> dict[str, Any]:
    row = {
        "name": f"客户{code[-6:]}有限公司",
        "uscc": code,
        "nature": "国有企业",
        "industry": "基础设施",
        "tier": "项目级",
        "unit": owner_unit,
        "owner": "李强",
        "owner_title": "客户经理",
        "phone": "13812345678",
        "strategic": "否",
        "listed_on": dt.datetime(2024, 3, 1),
        "remark": None,
    }
    return {**row, **over}


def deal(code: str, no: str, amount: float = 6000.0, **over: Any) -> dict[str, Any]:
    row = {
        "uscc": code,
        "contract_no": no,
        "project": "综合管廊工程",
        "signed_on": dt.datetime(2025, 5, 10),
        "amount": amount,
        "pay_status": "按时",
        "overdue_days": None,
        "receivable": 120.0,
    }
    return {**row, **over}


def branch_file(
    folder: Path,
    name: str,
    unit: str,
    codes: Sequence[str],
    quarter: str = "2026Q3",
    **extra: list[dict[str, Any]],
) -> Path:
    """A clean branch workbook: one roster row, one card and one contract per code."""
    rows: dict[str, list[dict[str, Any]]] = {
        "roster": [customer(c, unit) for c in codes],
        "contracts": [deal(c, f"HT-{unit[:2]}-{i:03d}") for i, c in enumerate(codes)],
        "cards": [card_row(uscc=c) for c in codes],
    }
    for form_id, more in extra.items():
        rows[form_id] = rows.get(form_id, []) + more
    folder.mkdir(parents=True, exist_ok=True)
    return submit(folder / name, info(unit, quarter), rows)


def run(tmp: Path, inbox: Path, **over: Any):
    opts = {"register": tmp / "reg" / "集团大客户名录.xlsx", "inbox": inbox, "today": TODAY}
    return merge(MergeSettings(**{**opts, **over}))


def sheet_rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    """A register sheet as records keyed by header (read back with calamine)."""
    grid = calamine.load_workbook(str(path)).get_sheet_by_name(sheet).to_python()
    if not grid:
        return []
    head = grid[0]
    return [dict(zip(head, r, strict=False)) for r in grid[1:] if any(v != "" for v in r)]


def test_register_has_every_sheet_with_form_headers(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    result = run(tmp_path, inbox)
    wb = openpyxl.load_workbook(result.register)
    assert wb.sheetnames[: len(REGISTER_SHEETS)] == list(REGISTER_SHEETS)
    head = [c.value for c in wb[REG_ROSTER.sheet][1]]
    assert head == list(REG_ROSTER.headers)
    for form in REG_TABLES:
        assert [c.value for c in wb[form.sheet][1]] == list(form.headers)
    for want in (
        "计算等级",
        "等级依据",
        "等级核对",
        "风险等级",
        "来源单位",
        "HQ备注",
        "人工风险等级",
    ):
        assert want in head
    with zipfile.ZipFile(result.register) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        kinds = "".join(zf.read(n).decode() for n in charts)
    # 汇总: a bar and two pies; 考核: one bar comparing branches; 趋势: four line charts.
    assert len(charts) == 8 and kinds.count("<c:barChart>") == 2
    assert kinds.count("<c:pieChart>") == 2 and kinds.count("<c:lineChart>") == 4


def test_rows_reconcile_rejected_rows_keep_original_values(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    bad = deal(CODES[0], "HT-BAD-1", amount=-5.0)
    dup = deal(CODES[0], "HT-华东-000")  # exact copy of the first contract
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:3], contracts=[bad, dup])
    result = run(tmp_path, inbox)
    (f,) = result.files
    assert (f.rows_in, f.merged, f.rejected, f.duplicate) == (11, 9, 1, 1)
    assert f.status == "partial"
    refused = sheet_rows(result.register, REJECTED.sheet)
    rejected = [r for r in refused if r["规则"] != "duplicate"]
    assert len(rejected) == 1
    assert rejected[0]["工作表"] == CONTRACTS.sheet and rejected[0]["行"] == 5
    assert "amount_range" in rejected[0]["规则"] and "HT-BAD-1" in rejected[0]["原始值"]
    dups = [r for r in refused if r["规则"] == "duplicate"]
    assert len(dups) == 1 and "第 2 行" in dups[0]["说明"]
    merged = sheet_rows(result.register, CONTRACTS.sheet)
    assert len(merged) == 3 and {r["来源单位"] for r in merged} == {"华东分公司"}
    assert {r["来源文件"] for r in merged} == {"a.xlsx"}
    sub = sheet_rows(result.register, SUBMISSIONS.sheet)
    assert sub[0]["读入行数"] == 11 and sub[0]["合并"] == 9 and sub[0]["拒收"] == 1


def test_unreadable_file_is_rejected_others_merge(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    result = run(tmp_path, inbox)
    by = {f.file: f for f in result.files}
    assert by["broken.xlsx"].status == "rejected" and by["broken.xlsx"].reason
    assert by["a.xlsx"].status == "merged"
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert any(r["文件"] == "broken.xlsx" and r["规则"] == "unreadable" for r in refused)
    assert len(sheet_rows(result.register, REG_ROSTER.sheet)) == 2
    doc = result.to_json()
    assert set(doc) >= {"register", "files", "conflicts", "totals"}
    assert set(doc["files"][0]) >= {
        "file", "branch", "quarter", "status", "rows_in", "merged", "rejected", "duplicate",
        "reason",
    }  # fmt: skip
    json.dumps(doc)
    # The same inbox again: nothing changes, but the refused file is still reported refused.
    again = run(tmp_path, inbox)
    by = {f.file: f for f in again.files}
    assert not again.written and again.has_errors
    assert by["broken.xlsx"].status == "rejected" and "上次整份拒收" in by["broken.xlsx"].reason
    assert by["a.xlsx"].status == "unchanged"


def test_missing_sheet_makes_file_partial(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    path = branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    wb = openpyxl.load_workbook(path)
    del wb[RECEPTION.sheet]
    wb.save(path)
    result = run(tmp_path, inbox)
    (f,) = result.files
    assert f.status == "partial" and RECEPTION.sheet in f.missing_sheets
    assert f.merged == f.rows_in == 6
    sub = sheet_rows(result.register, SUBMISSIONS.sheet)
    assert RECEPTION.sheet in sub[0]["缺少工作表"]


def test_wrong_template_version_rejects_whole_file(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    rows = {"roster": [customer(CODES[0], "华东分公司")]}
    submit(inbox / "old.xlsx", info("华东分公司", version="9.0"), rows)
    result = run(tmp_path, inbox)
    (f,) = result.files
    assert f.status == "rejected" and "模板版本" in f.reason
    assert f.rows_in == f.rejected == 1
    assert sheet_rows(result.register, REG_ROSTER.sheet) == []


def test_same_inbox_twice_is_unchanged_and_not_rewritten(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    branch_file(inbox, "b.xlsx", "华南分公司", CODES[2:4])
    first = run(tmp_path, inbox)
    before = first.register.read_bytes()
    second = run(tmp_path, inbox)
    assert [f.status for f in second.files] == ["unchanged", "unchanged"]
    assert not second.written
    assert second.register.read_bytes() == before
    assert second.totals == first.totals
    # A renamed copy of the same bytes is recognised too.
    shutil.copy(inbox / "a.xlsx", inbox / "a-copy.xlsx")
    third = run(tmp_path, inbox)
    assert {f.status for f in third.files} == {"unchanged"}


def test_resubmission_replaces_branch_rows_for_quarter(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:3])
    branch_file(inbox, "b.xlsx", "华南分公司", CODES[3:5])
    run(tmp_path, inbox)
    again = tmp_path / "in2"
    branch_file(again, "a-v2.xlsx", "华东分公司", CODES[:2])  # dropped one customer
    result = run(tmp_path, again)
    assert [f.status for f in result.files] == ["merged"]
    roster = sheet_rows(result.register, REG_ROSTER.sheet)
    assert sorted(r["统一社会信用代码"] for r in roster) == sorted(CODES[:2] + CODES[3:5])
    contracts = sheet_rows(result.register, CONTRACTS.sheet)
    assert len(contracts) == 4
    assert {r["来源文件"] for r in contracts if r["来源单位"] == "华东分公司"} == {"a-v2.xlsx"}
    changes = sheet_rows(result.register, CHANGES.sheet)
    # The customer left, and with it its contract (a card goes with its customer).
    assert [(c["统一社会信用代码"], c["变更类型"], c["原值"]) for c in changes] == [
        (CODES[2], "移除客户", "项目级"),
        (CODES[2], "移除合同", "HT-华东-002"),
    ]
    sub = sheet_rows(result.register, SUBMISSIONS.sheet)
    assert sorted(r["文件"] for r in sub) == ["a-v2.xlsx", "b.xlsx"]
    # The first inbox, still holding the old file, never brings the replaced rows back.
    # It is reported superseded by the newer file, and the run's totals are the register's.
    third = run(tmp_path, inbox)
    assert [f.status for f in third.files] == ["superseded", "unchanged"] and not third.written
    old = third.files[0]
    assert old.merged == 0 and old.rejected == old.rows_in == 9 and "a-v2.xlsx" in old.reason
    assert not third.has_errors
    assert third.totals["merged"] == third.files[1].merged == 6  # b.xlsx only


def test_later_submission_in_same_inbox_supersedes(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a1.xlsx", "华东分公司", CODES[:3])
    submit(
        inbox / "a2.xlsx",
        info("华东分公司", submitted_on=dt.datetime(2026, 10, 12)),
        {"roster": [customer(CODES[0], "华东分公司")]},
    )
    result = run(tmp_path, inbox)
    by = {f.file: f for f in result.files}
    assert by["a1.xlsx"].status == "superseded" and "a2.xlsx" in by["a1.xlsx"].reason
    assert "报送日期 2026-10-12 晚于 2026-10-10" in by["a1.xlsx"].reason
    assert by["a1.xlsx"].rejected == by["a1.xlsx"].rows_in == 9
    assert len(sheet_rows(result.register, REG_ROSTER.sheet)) == 1


@pytest.mark.parametrize(
    ("claims", "winner", "why"),
    [
        # 集团级 recorded with 责任单位 华南: 华南's claim wins although 华东 listed it earlier.
        (
            [
                ("华东分公司", {"tier": "集团级", "unit": "华南分公司", "strategic": "是"}),
                ("华南分公司", {"tier": "集团级", "listed_on": dt.datetime(2025, 1, 1)}),
            ],
            "华南分公司",
            "集团级",
        ),
        # Otherwise the earliest 纳入名录日期 wins.
        (
            [
                ("华东分公司", {"listed_on": dt.datetime(2025, 6, 1)}),
                ("华南分公司", {"listed_on": dt.datetime(2023, 2, 1)}),
            ],
            "华南分公司",
            "最早",
        ),
    ],
)
def test_ownership_conflict(
    tmp_path: Path, claims: list[tuple[str, dict[str, Any]]], winner: str, why: str
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    key = CODES[10]
    for i, (unit, over) in enumerate(claims):
        submit(
            inbox / f"f{i}.xlsx",
            info(unit),
            {"roster": [customer(key, unit, **over), customer(CODES[11 + i], unit)]},
        )
    result = run(tmp_path, inbox)
    (conflict,) = result.conflicts
    assert conflict.key == key and len(conflict.claims) == 2
    assert [c.branch for c in conflict.claims if c.adopted] == [winner]
    assert why in conflict.reason
    roster = {r["统一社会信用代码"]: r for r in sheet_rows(result.register, REG_ROSTER.sheet)}
    assert roster[key]["来源单位"] == winner
    rows = sheet_rows(result.register, CONFLICTS.sheet)
    assert len(rows) == 2 and {r["是否采用"] for r in rows} == {"是", "否"}
    loser = next(f for f in result.files if f.branch != winner)
    assert (loser.merged, loser.duplicate) == (1, 1)
    assert result.to_json()["conflicts"][0]["claims"][0].keys() >= {"branch", "file"}
    # The losing claim survives the next merge (read back from 归属冲突).
    again = tmp_path / "in2"
    branch_file(again, "other.xlsx", "华北分公司", CODES[20:21])
    result2 = run(tmp_path, again)
    assert [c.key for c in result2.conflicts] == [key]


def test_tiers_recomputed_over_all_contracts(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    key = CODES[5]
    big = [deal(key, "HT-X-1", 25000.0), deal(key, "HT-X-2", 21000.0)]
    inbox.mkdir()
    submit(
        inbox / "a.xlsx",
        info("华东分公司"),
        {"roster": [customer(key, "华东分公司", tier="项目级")], "contracts": big},
    )
    result = run(tmp_path, inbox)
    (row,) = sheet_rows(result.register, REG_ROSTER.sheet)
    assert row["计算等级"] == "集团级" and "HT-X-1" in row["等级依据"]
    assert row["等级核对"] == "建议升级"


def test_hq_columns_carried_over(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:2])
    first = run(tmp_path, inbox)
    # HQ types a note and a manual level in Excel (simulated with openpyxl on a copy).
    wb = openpyxl.load_workbook(first.register)
    ws = wb[REG_ROSTER.sheet]
    head = [c.value for c in ws[1]]
    note, manual = head.index("HQ备注") + 1, head.index("人工风险等级") + 1
    key_col = head.index("统一社会信用代码") + 1
    ws.cell(2, note, "重点跟进")
    ws.cell(2, manual, "高")
    key = ws.cell(2, key_col).value
    wb.save(first.register)
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:3])  # resubmission adds a customer
    second = run(tmp_path, inbox)
    assert second.written
    roster = {r["统一社会信用代码"]: r for r in sheet_rows(second.register, REG_ROSTER.sheet)}
    assert len(roster) == 3
    assert roster[key]["HQ备注"] == "重点跟进" and roster[key]["人工风险等级"] == "高"
    assert sum(1 for r in roster.values() if r["HQ备注"]) == 1
    assert list((second.register.parent / "history").iterdir())


def test_formula_like_text_stays_text(tmp_path: Path) -> None:
    """Leading =,+,-,@ in data are rejected by validation (formula_in_data) but kept as
    text in 拒收记录; file names and tab/CR-led text reach the register as string cells."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    names = ["=1+1.xlsx", "@SUM(A1).xlsx", "+A1.xlsx", "-2.xlsx"]
    texts = ["\tx", "\rx", "ok\x07bell", "=1+1"]
    for i, name in enumerate(names):
        code = CODES[30 + i]
        rows = {
            "roster": [customer(code, f"单位{i}")],
            "cards": [card_row(uscc=code, needs=texts[i])],
        }
        submit(inbox / name, info(f"单位{i}"), rows)
    result = run(tmp_path, inbox)
    wb = openpyxl.load_workbook(result.register)
    ws = wb[REG_ROSTER.sheet]
    col = list(REG_ROSTER.headers).index("来源文件") + 1
    cells = [ws.cell(r, col) for r in range(2, 2 + len(names))]
    assert all(c.data_type == "s" for c in cells)
    assert {c.value for c in cells} == set(names)
    ws = wb[CARDS.sheet]
    col = [c.value for c in ws[1]].index(CARDS["needs"].header) + 1
    cells = [ws.cell(r, col) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "s" for c in cells)
    assert "okbell" in {c.value for c in cells}  # the control character is removed
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert [r["规则"] for r in refused] == ["formula_in_data"]
    assert "需求特点==1+1" in refused[0]["原始值"]


def test_non_submitters_listed(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    result = run(tmp_path, inbox, branches=("华东分公司", "西北分公司"))
    assert result.missing_branches == ["西北分公司"]
    sub = sheet_rows(result.register, SUBMISSIONS.sheet)
    assert any(r["单位"] == "西北分公司" and r["状态"] == "未报送" for r in sub)
    assert any(r["单位"] == "华东分公司" and r["状态"] == STATUS_TEXT["merged"] for r in sub)


# -- property: every row ends in exactly one place -------------------------------------

KINDS = st.sampled_from(["good", "bad", "dup"])


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=st.lists(st.lists(KINDS, min_size=0, max_size=4), min_size=1, max_size=3))
def test_rows_always_reconcile(
    tmp_path_factory: pytest.TempPathFactory, plan: list[list[str]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    inbox = tmp / "in"
    inbox.mkdir()
    expected: dict[str, tuple[int, int, int]] = {}
    for b, kinds in enumerate(plan):
        unit = f"第{b + 1}分公司"
        codes = CODES[b * 10 : b * 10 + 1]
        contracts = [deal(codes[0], f"HT-{b}-0")]
        good = bad = dup = 0
        for i, kind in enumerate(kinds):
            if kind == "good":
                contracts.append(deal(codes[0], f"HT-{b}-{i + 1}"))
                good += 1
            elif kind == "bad":
                contracts.append(deal(codes[0], f"HT-{b}-{i + 1}", amount=0.0))
                bad += 1
            else:
                contracts.append(dict(contracts[0]))
                dup += 1
        submit(
            inbox / f"{b}.xlsx",
            info(unit),
            {"roster": [customer(codes[0], unit)], "contracts": contracts},
        )
        expected[f"{b}.xlsx"] = (2 + good, bad, dup)
    result = run(tmp, inbox)
    for f in result.files:
        assert f.rows_in == f.merged + f.rejected + f.duplicate
        assert (f.merged, f.rejected, f.duplicate) == expected[f.file]
    t = result.totals
    assert t["rows_in"] == t["merged"] + t["rejected"] + t["duplicate"]
    merged_rows = len(sheet_rows(result.register, CONTRACTS.sheet)) + len(
        sheet_rows(result.register, REG_ROSTER.sheet)
    )
    assert merged_rows == t["merged"]
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert len(refused) == t["rejected"] + t["duplicate"]


def test_info_sheet_headers_come_from_forms() -> None:
    assert INFO.sheet == "报送信息" and ROSTER["uscc"].header == "统一社会信用代码"


def test_risk_and_tier_changes_between_merges(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    key = CODES[6]
    inbox.mkdir()
    rows: dict[str, list[dict[str, Any]]] = {
        "roster": [customer(key, "华东分公司")],
        "contracts": [deal(key, "HT-1")],
    }
    submit(inbox / "a.xlsx", info("华东分公司"), rows)
    first = run(tmp_path, inbox)
    (row,) = sheet_rows(first.register, REG_ROSTER.sheet)
    assert row["计算等级"] == "项目级"
    late = deal(key, "HT-2", 12000.0, pay_status="逾期", overdue_days=120)
    submit(inbox / "a.xlsx", info("华东分公司"), {**rows, "contracts": [*rows["contracts"], late]})
    second = run(tmp_path, inbox)
    (row,) = sheet_rows(second.register, REG_ROSTER.sheet)
    assert row["计算等级"] == "分公司级" and row["风险等级"] == "高"
    assert "逾期付款" in row["风险原因"]  # the rule by its Chinese name
    risks = sheet_rows(second.register, "风险清单")
    top = risks[0]
    assert (top["统一社会信用代码"], top["规则"], top["风险等级"]) == (key, "overdue_payment", "高")
    changes = {c["变更类型"]: c for c in sheet_rows(second.register, CHANGES.sheet)}
    assert (changes["计算等级变化"]["原值"], changes["计算等级变化"]["新值"]) == (
        "项目级",
        "分公司级",
    )
    assert changes["风险等级变化"]["新值"] == "高"
    with zipfile.ZipFile(second.register) as zf:
        sheet1 = zf.read("xl/worksheets/sheet1.xml").decode()
    assert sheet1.count('<cfRule type="expression"') == 3  # formula rules: live in Excel


def test_sample_quarter_reconciles(tmp_path: Path) -> None:
    """A realistic quarter (planted mistakes, drift, an unreadable file) merges end to end."""
    qs = QuarterSettings(branches=3)
    write_quarter(tmp_path / "in", qs)
    result = run(tmp_path, tmp_path / "in", today=qs.today)
    assert result.files and all(f.reconciles for f in result.files)
    t = result.totals
    assert t["rows_in"] == t["merged"] + t["rejected"] + t["duplicate"] > 0
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert sum(1 for r in refused if r["规则"] != "duplicate" and r["行"] != "") >= sum(
        f.rejected for f in result.files if f.status != "rejected"
    )


def test_blank_register_has_every_sheet(tmp_path: Path) -> None:
    path = write_blank_register(tmp_path / "blank.xlsx")
    wb = openpyxl.load_workbook(path)
    hidden = ["_kam_sources", "_kam_trends", "_kam_rows", "_kam_repeats"]
    assert wb.sheetnames == [*REGISTER_SHEETS, *hidden]
    assert wb["_kam_sources"].sheet_state == "hidden"
    assert wb["_kam_rows"].sheet_state == wb["_kam_repeats"].sheet_state == "veryHidden"
    assert [c.value for c in wb[CONFLICTS.sheet][1]][-2:] == ["是否采用", "说明"]
