"""Group insight on a real merged register: exposure across three branches, 考核, 预警通报, 趋势.

Three branch files each list one customer under a bankruptcy warning (集团级, 责任单位 华东)
with their own contracts; 华东 reports 破产征兆. Every figure is checked against the
register's own rows, and LibreOffice must draw the new sheets and convert the notice.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from builders import INFO_OK, card_row, contract_row, roster_row
from test_cli import kam
from test_register_render import render_pages, rgb, to_pdf

from kam.forms import CONTRACTS
from kam.insight.exposure import EXPOSURE
from kam.insight.notice import notice_name
from kam.insight.trends import HISTORY
from kam.register.columns import KPI_SHEET, REGISTER_FILENAME, SUMMARY_SHEET, TREND_SHEET
from kam.register.merge import MergeSettings, merge
from kam.register.summary import merge_message
from kam.template import Layout, write_submission
from kam.uscc import make_uscc

RISKY, OTHER = make_uscc(41), make_uscc(42)
NAME = "鼎盛置业集团有限公司"
UNITS = ("华东分公司", "华南分公司", "西北分公司")
# per unit: (contract no, signed, amount, status, overdue days, receivable)
DEALS = {
    "华东分公司": [
        ("HT-E1", dt.datetime(2024, 3, 1), 6000.0, "逾期", 45, 300.0),
        ("HT-E2", dt.datetime(2019, 3, 1), 9000.0, "按时", None, 50.0),  # outside 5 years
    ],
    "华南分公司": [("HT-S1", dt.datetime(2025, 6, 1), 2500.5, "逾期", 130, 800.25)],
    "西北分公司": [("HT-W1", dt.datetime(2023, 1, 9), 700.0, "按时", None, 10.0)],
}
TODAY = dt.date(2026, 10, 15)


def branch_file(inbox: Path, unit: str, quarter: str = "2026Q3", extra: int = 0) -> Path:
    roster = [
        roster_row(RISKY, name=NAME, tier="集团级", strategic="是", unit="华东分公司"),
        roster_row(OTHER, name="其他客户有限公司", unit=unit),
    ]
    contracts = [
        contract_row(RISKY, no, signed_on=s, amount=a, pay_status=p, overdue_days=d, receivable=r)
        for no, s, a, p, d, r in DEALS[unit]
    ]
    contracts.append(contract_row(OTHER, f"HT-O-{unit}", amount=5000.0 + extra))
    rows = {
        "roster": roster,
        "contracts": contracts,
        "cards": [card_row(RISKY), card_row(OTHER)],
    }
    if unit == "华东分公司":
        rows["risk"] = [
            {
                "uscc": RISKY,
                "risk_type": "破产征兆",
                "level": "高",
                "found_on": dt.datetime(2026, 9, 2),
                "description": "法院受理破产重整申请",
                "measures": "暂停新签，启动债权申报",
                "reported": "是",
            }
        ]
    year, q = int(quarter[:4]), int(quarter[-1])
    end = dt.date(year, 3 * q, 30 if q in (2, 3) else 31)
    info = INFO_OK | {
        "unit": unit,
        "quarter": quarter,
        "submitted_on": dt.datetime.combine(end + dt.timedelta(days=10), dt.time()),
    }
    path = inbox / f"{unit}_{quarter}.xlsx"
    return write_submission(path, info, rows, layout=Layout(data_rows=10))


@pytest.fixture
def register(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in UNITS:
        branch_file(inbox, unit)
    path = tmp_path / REGISTER_FILENAME
    result = merge(MergeSettings(register=path, inbox=inbox, today=TODAY))
    assert result.notices_due == 1 and result.to_json()["notices_due"] == 1
    assert "须发预警通报" in merge_message(result)  # the 合并报送 button's message box
    return path


def test_exposure_is_summed_across_three_branches(register: Path) -> None:
    done = kam("risk", str(register), "--json")
    assert done.returncode == 0, done.stderr
    (c,) = [c for c in json.loads(done.stdout)["customers"] if c["key"] == RISKY]
    e = c["exposure"]
    assert e["units"] == sorted(UNITS) and e["contracts"] == 4
    assert e["amount_5y"] == pytest.approx(6000 + 2500.5 + 700)  # HT-E2 is older than 5 years
    assert e["receivable"] == pytest.approx(300 + 50 + 800.25 + 10)
    assert e["overdue_receivable"] == pytest.approx(300 + 800.25)
    assert e["max_overdue_days"] == 130
    assert e["per_unit"]["华南分公司"]["overdue_receivable"] == pytest.approx(800.25)
    # The rows it cites are the customer's rows of 合同台账, and they add up to the figures.
    ws = openpyxl.load_workbook(register, read_only=True)[CONTRACTS.sheet]
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    head = grid[0]
    col = {f.id: head.index(f.header) for f in CONTRACTS.data_fields}
    cited = [grid[r - 1] for r in e["rows"]]
    assert {r[col["uscc"]] for r in cited} == {RISKY}
    assert sum(r[col["receivable"]] for r in cited) == pytest.approx(e["receivable"])
    mine = [r for r in grid[1:] if r[col["uscc"]] == RISKY]
    assert len(mine) == len(cited)


def test_exposure_sheet_and_the_alert_block_show_it(register: Path) -> None:
    wb = openpyxl.load_workbook(register)
    ws = wb[EXPOSURE.sheet]
    head = [c.value for c in ws[1]]
    assert head == list(EXPOSURE.headers)
    rows = [dict(zip(head, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    first = rows[0]  # 高 first
    assert first["统一社会信用代码"] == RISKY and first["风险等级"] == "高"
    assert first["涉及单位数"] == 3 and first["应收余额合计（万元）"] == pytest.approx(1160.25)
    assert first["最长逾期天数"] == 130
    levels = [r["风险等级"] for r in rows]
    assert levels == sorted(levels, key="高中低".index)
    summary = [[c.value for c in r] for r in wb[SUMMARY_SHEET].iter_rows(max_row=4)]
    assert "涉及单位数" in summary[1] and 3 in summary[2] and RISKY in summary[2]


def test_kpi_json_and_sheet(register: Path) -> None:
    done = kam("kpi", str(register), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["quarter"], doc["as_of"]) == ("2026Q3", "2026-09-30")
    branches = {b["branch"]: b for b in doc["branches"]}
    assert set(UNITS) <= set(branches)
    east = branches["华东分公司"]
    assert east["status"]["value"] == "已报送" and east["on_time"]["met"] is True
    assert east["customers"]["value"] == 2  # RISKY is 华东's by 责任单位, plus its own OTHER
    assert east["top_contact_coverage"]["denominator"] == 1
    assert east["top_contact_coverage"]["met"] is False  # no high-level contact at all
    assert east["high_risk_customers"]["value"] == 1
    assert {"branch", "owner", "completeness"} <= set(doc["owners"][0])
    ws = openpyxl.load_workbook(register)[KPI_SHEET]
    cells = [c.value for r in ws.iter_rows() for c in r if c.value is not None]
    assert "华东分公司" in cells and "合计（全集团）" in cells and "档案完整率" in cells
    text = kam("kpi", str(register))
    assert text.returncode == 0 and "档案完整率" in text.stdout


def test_kpi_refuses_a_file_that_is_no_register(tmp_path: Path) -> None:
    path = branch_file(tmp_path, "华东分公司")
    done = kam("kpi", str(path))
    assert done.returncode == 2 and "集团大客户名录" in done.stderr
    missing = kam("notice", str(tmp_path / "nope.xlsx"))
    assert missing.returncode == 2


def test_notice_is_written_never_overwritten_and_converts_to_pdf(register: Path) -> None:
    out = register.parent / "通报"
    done = kam("notice", str(register), "--out", str(out), "--today", "2026-10-16")
    assert done.returncode == 0, done.stderr
    path = out / notice_name(NAME, dt.date(2026, 10, 16))
    assert path.name == f"预警通报_{NAME}_20261016.docx" and path.is_file()
    again = kam("notice", str(register), "--out", str(out), "--today", "2026-10-16")
    assert again.returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        path.name,
        f"预警通报_{NAME}_20261016（2）.docx",
    ]
    pdf = to_pdf(path, register.parent)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    for want in (
        f"关于{NAME}",
        "集团市场经营部",
        "法院受理破产重整申请",
        "暂停新签，启动债权申报",
        "华南分公司",
        "西北分公司",
        "1,160.25",
        "2026年10月21日",
        "2026年10月16日",
    ):
        assert want in flat, want


def test_libreoffice_draws_the_insight_sheets_with_their_charts(register: Path) -> None:
    tmp = register.parent
    pages = render_pages(register, tmp, 1, 500)
    pdf = tmp / (register.stem + ".pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")

    def page_of(marker: str) -> int:
        return next(i for i, t in enumerate(text) if marker in t)

    kpi, trend = page_of("考核：2026Q3"), page_of("趋势：")
    exposure = page_of(EXPOSURE["amount_5y"].header)
    assert NAME in text[exposure] and "1160.25" in text[exposure].replace(",", "")
    # The 考核 column chart and the 趋势 line charts are drawn in the default series colours.
    for page in (kpi, trend):
        drawn = int((np.abs(pages[page].astype(int) - rgb("#4F81BD")).max(axis=2) <= 6).sum())
        assert drawn > 50, page
    # A miss is marked: the branches' 高层接触达标率 of 0% is painted red on the 考核 page.
    miss = int((np.abs(pages[kpi].astype(int) - rgb("#FF9999")).max(axis=2) <= 6).sum())
    assert miss > 30


def test_history_is_appended_never_rewritten_and_charts_by_quarter(register: Path) -> None:
    inbox = register.parent / "q4"
    inbox.mkdir()
    for unit in UNITS:
        branch_file(inbox, unit, "2026Q4")
    merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2027, 1, 12)))
    first = _history(register)
    assert [r["报送季度"] for r in first] == ["2026Q3", "2026Q4"]
    # 华南 resubmits Q4 with a changed ledger: one more row, the stored ones as they were.
    branch_file(inbox, "华南分公司", "2026Q4", extra=1)
    merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2027, 1, 12)))
    second = _history(register)
    assert second[:2] == first and [r["报送季度"] for r in second][2] == "2026Q4"
    ws = openpyxl.load_workbook(register)[TREND_SHEET]
    quarters = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert quarters == ["2026Q3", "2026Q4"]  # one row per quarter, the latest record


def test_a_register_from_before_starts_its_history_at_its_latest_quarter(register: Path) -> None:
    wb = openpyxl.load_workbook(register)
    del wb[HISTORY.sheet]  # as written before this change
    wb.save(register)
    inbox = register.parent / "q4"
    inbox.mkdir()
    branch_file(inbox, "华东分公司", "2026Q4")
    merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2027, 1, 12)))
    assert [r["报送季度"] for r in _history(register)] == ["2026Q3", "2026Q4"]


def _history(register: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(register)[HISTORY.sheet]
    assert ws.sheet_state == "hidden"
    head = [c.value for c in ws[1]]
    return [
        {h: c.value for h, c in zip(head, r, strict=True) if h != "记录时间"}
        for r in ws.iter_rows(min_row=2)
    ]


def test_risk_button_says_how_many_notices_are_due(register: Path) -> None:
    from kam.io.openpyxl_book import OpenpyxlBook
    from macros import risk_marks

    book = OpenpyxlBook.open(register)
    risk_marks.run(book)
    assert "须发预警通报 1 份" in book.alerts[-1][1]


def test_notice_into_a_folder_that_cannot_be_made_is_exit_2(register: Path) -> None:
    blocker = register.parent / "占用"
    blocker.write_text("not a folder", encoding="utf-8")
    done = kam("notice", str(register), "--out", str(blocker / "通报"))
    assert done.returncode == 2 and "无法写出预警通报" in done.stderr
    assert "Traceback" not in done.stderr


def test_risk_json_of_a_submission_gives_its_own_exposure(tmp_path: Path) -> None:
    path = branch_file(tmp_path, "华南分公司")
    done = kam("risk", str(path), "--json")
    assert done.returncode == 0, done.stderr
    (c,) = [c for c in json.loads(done.stdout)["customers"] if c["key"] == RISKY]
    e = c["exposure"]
    assert (e["units"], e["unit_count"], e["contracts"]) == (["华南分公司"], 1, 1)
    assert e["overdue_receivable"] == pytest.approx(800.25) and e["max_overdue_days"] == 130
    ws = openpyxl.load_workbook(path, read_only=True)[CONTRACTS.sheet]
    (row,) = e["rows"]  # the submission's own sheet row of that contract
    values = [c.value for c in next(ws.iter_rows(min_row=row, max_row=row))]
    assert "HT-S1" in values
