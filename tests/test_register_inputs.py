"""No conclusion from partial data (DOMAIN §5): rejected rows named on the customers they feed."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import openpyxl
from test_merge import CODES, branch_file, customer, deal, info, run, sheet_rows, submit
from typer.testing import CliRunner

from kam.cli.app import app
from kam.forms import CONTRACTS, RECEPTION
from kam.register.columns import REG_ROSTER, REJECTED, SUBMISSIONS

UNIT = "华东分公司"


def drop_column(path: Path, sheet: str, header: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for cell in ws[1]:
        if cell.value == header:
            ws.delete_cols(cell.column)
            break
    else:
        raise AssertionError(f"no column {header}")
    wb.save(path)


def put(folder: Path, name: str, unit: str, rows: dict, **over) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return submit(folder / name, info(unit, **over), rows)


def by_key(register: Path) -> dict[str, dict]:
    return {r["统一社会信用代码"]: r for r in sheet_rows(register, REG_ROSTER.sheet)}


def test_missing_column_no_rule_reads_merges_rows_with_a_reason(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    path = branch_file(inbox, "a.xlsx", UNIT, CODES[:3])
    drop_column(path, CONTRACTS.sheet, CONTRACTS["project"].header)
    result = run(tmp_path, inbox)
    (f,) = result.files
    assert (f.status, f.merged, f.rejected) == ("partial", f.rows_in, 0)
    assert f"{CONTRACTS.sheet}“项目名称”" in f.missing_columns[0] and "项目名称" in f.reason
    contracts = sheet_rows(result.register, CONTRACTS.sheet)
    assert len(contracts) == 3 and {c["项目名称"] for c in contracts} == {""}
    assert {r["等级核对"] for r in by_key(result.register).values()} == {"一致"}
    assert result.to_json()["files"][0]["missing_columns"] == list(f.missing_columns)


def test_missing_column_a_rule_needs_rejects_the_sheet_and_says_so(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    path = branch_file(inbox, "a.xlsx", UNIT, CODES[:3])  # 项目级 recorded, 6000 万 each
    drop_column(path, CONTRACTS.sheet, CONTRACTS["amount"].header)
    result = run(tmp_path, inbox)
    (f,) = result.files
    assert f.rejected == 3 and f.status == "partial"
    assert f.rejected_sheets and f.rejected_sheets[0].startswith(CONTRACTS.sheet)
    sub = sheet_rows(result.register, SUBMISSIONS.sheet)
    assert sub[0]["整表拒收"].startswith(CONTRACTS.sheet) and "单项合同额" in sub[0]["整表拒收"]
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert sorted(r["统一社会信用代码"] for r in refused) == sorted(CODES[:3])
    for row in by_key(result.register).values():
        # Without the guard: 未达标, "需认定依据", "近 5 年无 … 的合同".
        assert row["等级核对"] == "待核实"
        assert "合同 1 行被拒收" in row["等级依据"] and "拒收记录" in row["等级依据"]
        assert "风险评估未计入" in row["风险原因"]
    doc = result.to_json()
    assert sorted(c["key"] for c in doc["customers"]) == sorted(CODES[:3])
    assert {c["rejected_inputs"] for c in doc["customers"]} == {1}


def test_customer_whose_only_contract_is_rejected(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    bad = deal(CODES[1], "HT-X-9", amount=0.0)  # amount_range: the row is rejected
    put(
        inbox,
        "a.xlsx",
        UNIT,
        {
            "roster": [customer(CODES[0], UNIT), customer(CODES[1], UNIT)],
            "contracts": [deal(CODES[0], "HT-X-1"), bad],
        },
    )
    result = run(tmp_path, inbox)
    rows = by_key(result.register)
    assert rows[CODES[0]]["等级核对"] == "一致" and "被拒收" not in rows[CODES[0]]["等级依据"]
    assert rows[CODES[0]]["风险原因"] == "" or "未计入" not in rows[CODES[0]]["风险原因"]
    assert rows[CODES[1]]["计算等级"] == "未达标" and rows[CODES[1]]["等级核对"] == "待核实"
    assert "计算等级可能偏低" in rows[CODES[1]]["等级依据"]
    (c,) = result.to_json()["customers"]
    assert (c["key"], c["rejected_inputs"], c["rejected_contracts"]) == (CODES[1], 1, 0 + 1)


def test_verdicts_rejected_contracts_cannot_overturn_stand(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    top = customer(CODES[0], UNIT, tier="集团级", strategic="是")
    low = customer(CODES[1], UNIT, tier="项目级")  # 12000 万 merged: 建议升级 stands
    put(
        inbox,
        "a.xlsx",
        UNIT,
        {
            "roster": [top, low],
            "contracts": [
                deal(CODES[0], "HT-1", amount=0.0),
                deal(CODES[1], "HT-2", amount=12000.0),
                deal(CODES[1], "HT-3", amount=-5.0),
            ],
        },
    )
    rows = by_key(run(tmp_path, inbox).register)
    assert rows[CODES[0]]["等级核对"] == "一致" and rows[CODES[0]]["计算等级"] == "集团级"
    assert rows[CODES[1]]["等级核对"] == "建议升级"
    assert "未计入" in rows[CODES[0]]["风险原因"] and "未计入" in rows[CODES[1]]["风险原因"]


def test_rejected_log_rows_and_missing_log_sheet_are_named_in_risk(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    visit = {
        "date": dt.datetime(2026, 9, 1),
        "uscc": CODES[0],
        "visitor": "张总",
        "host": None,  # required: rejected
        "top_level": "是",
        "purpose": "回访",
    }
    branch_file(inbox, "a.xlsx", UNIT, CODES[:1], reception=[visit])
    path = branch_file(inbox, "b.xlsx", "华南分公司", CODES[5:6])
    wb = openpyxl.load_workbook(path)
    del wb[RECEPTION.sheet]
    wb.save(path)
    result = run(tmp_path, inbox)
    rows = by_key(result.register)
    assert "接待/维护记录 1 行被拒收" in rows[CODES[0]]["风险原因"]
    assert rows[CODES[0]]["等级核对"] == "一致"  # logs never feed the tier
    assert f"缺少工作表 {RECEPTION.sheet}" in rows[CODES[5]]["风险原因"]
    assert rows[CODES[5]]["等级核对"] == "一致"


def test_file_rejected_whole_is_named_on_its_branchs_customers(tmp_path: Path) -> None:
    q2 = tmp_path / "q2"
    branch_file(q2, "a-q2.xlsx", UNIT, CODES[:2], quarter="2026Q2")
    run(tmp_path, q2)
    q3 = tmp_path / "q3"
    branch_file(q3, "b.xlsx", "华南分公司", CODES[5:6])
    put(q3, "a-q3.xlsx", UNIT, {"roster": [customer(CODES[0], UNIT)]}, version="9.0")
    result = run(tmp_path, q3)
    rows = by_key(result.register)
    for code in CODES[:2]:
        assert "a-q3.xlsx 整份拒收" in rows[code]["等级依据"]
        assert rows[code]["等级核对"] == "待核实"
    assert "整份拒收" not in rows[CODES[5]]["等级依据"]
    customers = {c["key"]: c for c in result.to_json()["customers"]}
    assert customers[CODES[0]]["rejected_files"] == ["a-q3.xlsx"]
    sub = {r["文件"]: r for r in sheet_rows(result.register, SUBMISSIONS.sheet)}
    assert sub["a-q3.xlsx"]["整表拒收"].startswith("大客户名录（1 行）")


def test_tier_and_risk_json_give_rejected_inputs(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    path = put(
        inbox,
        "a.xlsx",
        UNIT,
        {
            "roster": [customer(CODES[0], UNIT), customer(CODES[1], UNIT)],
            "contracts": [deal(CODES[0], "HT-1"), deal(CODES[1], "HT-2", amount=0.0)],
        },
    )
    cli = CliRunner()
    tier = json.loads(cli.invoke(app, ["tier", str(path), "--json"]).stdout)
    got = {c["key"]: (c["check"], c["rejected_inputs"]) for c in tier["customers"]}
    assert got == {CODES[0]: ("ok", 0), CODES[1]: ("unverified", 1)}
    risk = json.loads(cli.invoke(app, ["risk", str(path), "--json"]).stdout)
    assert {c["key"]: c["rejected_inputs"] for c in risk["customers"]} == got_counts(got)
    result = run(tmp_path, inbox)
    doc = json.loads(cli.invoke(app, ["risk", str(result.register), "--json"]).stdout)
    by = {c["key"]: c for c in doc["customers"]}
    assert by[CODES[1]]["rejected_inputs"] == 1 and "拒收记录" in by[CODES[1]]["not_assessed"]
    assert by[CODES[0]]["rejected_inputs"] == 0 and by[CODES[0]]["not_assessed"] is None


def got_counts(got: dict[str, tuple[str, int]]) -> dict[str, int]:
    return {k: n for k, (_, n) in got.items()}


def test_demo_quarter_states_nothing_its_rejected_rows_contradict(tmp_path: Path) -> None:
    from kam.demo import run_demo

    run_demo(tmp_path)
    register = tmp_path / "集团大客户名录.xlsx"
    refused = sheet_rows(register, REJECTED.sheet)
    feeding = {CONTRACTS.sheet: "contracts", "接待登记表": "logs", "维护管理登记表": "logs"}
    lost = Counter(
        (r["统一社会信用代码"], feeding[r["工作表"]])
        for r in refused
        if r["工作表"] in feeding and r["规则"] != "duplicate"
    )
    rows = by_key(register)
    assert lost, "the demo plants rejected contract rows"
    for (code, kind), n in lost.items():
        row = rows.get(code)
        if row is None:
            continue  # a code no roster holds: no conclusion is stated about it
        assert "未计入" in row["风险原因"], code
        if kind == "contracts" and row["计算等级"] != "集团级":
            assert row["等级核对"] in ("待核实", "建议升级"), code
            assert f"合同 {n} 行被拒收" in row["等级依据"], code
    # The 华南 ledger without 项目名称 merges: its customers keep their real tiers.
    south = [r for r in rows.values() if r["来源单位"] == "华南分公司"]
    assert sum(r["计算等级"] == "未达标" for r in south) <= 1


def test_register_written_before_the_code_column_shows_no_hand_edits() -> None:
    """拒收记录 rows of an older register (no 统一社会信用代码 column) are not edits."""
    from kam.register.edits import EditScan, scan_sheet
    from kam.register.fingerprints import SPECS, Fingerprints, canon, digest

    old_ids = [f.id for f in REJECTED.fields if f.id != "uscc"]
    row = {"file": "a.xlsx", "unit": UNIT, "quarter": "2026Q3", "sheet": "合同台账", "row": 7}
    row |= {"rule": "type", "message": "金额无法识别", "original": "合同编号=HT-1"}
    stored = Fingerprints()
    stored.sheet(REJECTED.sheet).rows[digest(canon(row.get(f)) for f in old_ids)] += 1
    grid = [
        [REJECTED[f].header for f in old_ids],
        [row.get(f) for f in old_ids],
    ]
    scan = EditScan()
    scan_sheet(scan, REJECTED.sheet, grid, stored)
    assert scan.edited == [] and scan.missing[REJECTED.sheet] == 0
    assert SPECS[REJECTED.sheet].form is REJECTED


def test_rejected_rows_of_an_older_register_are_attributed_by_their_original_values() -> None:
    import pandas as pd

    from kam.register.inputs import rejected_inputs

    view = pd.DataFrame(
        {"uscc": [CODES[0], CODES[1]], "unit": UNIT, "source_unit": UNIT, "quarter": "2026Q3"}
    )
    refused = pd.DataFrame(
        {
            "file": ["a.xlsx"],
            "unit": [UNIT],
            "quarter": ["2026Q3"],
            "sheet": [CONTRACTS.sheet],
            "row": [7],
            "uscc": [None],
            "rule": ["type"],
            "original": [f"统一社会信用代码={CODES[1]}；合同编号=HT-1"],
        }
    )
    sources = pd.DataFrame({"unit": [UNIT], "quarter": ["2026Q3"], "status": ["partial"]})
    sources["missing_sheets"] = None
    lost = rejected_inputs(view, refused, sources)
    assert lost.contracts.tolist() == [0, 1]
