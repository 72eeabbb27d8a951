"""The 计算等级 button end to end on a real workbook through the openpyxl-backed interface."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from builders import INFO_OK, card_row, contract_row, roster_row

from kam.forms import ROSTER
from kam.io.openpyxl_book import OpenpyxlBook
from kam.template import Layout, write_submission
from kam.uscc import make_uscc
from macros.compute_tiers import compute_tiers, run


def test_button_writes_tier_and_reason_next_to_each_roster_row(tmp_path: Path) -> None:
    big, none = make_uscc(21), make_uscc(22)
    rows = {
        "roster": [
            roster_row(),
            roster_row(uscc=big, tier="分公司级", name="四川省交通投资集团有限责任公司"),
            roster_row(uscc=none, name="杭州湾建设有限公司"),
        ],
        "contracts": [
            contract_row(no="HT-1"),
            contract_row(big, "HT-2", amount=25000.0, signed_on=dt.datetime(2022, 3, 1)),
            contract_row(big, "HT-3", amount=21000.0, signed_on=dt.datetime(2025, 3, 1)),
        ],
        "cards": [card_row(uscc=u) for u in (roster_row()["uscc"], big, none)],
    }
    src = write_submission(tmp_path / "b.xlsx", INFO_OK, rows, layout=Layout(data_rows=10))
    book = OpenpyxlBook.open(src)
    result = compute_tiers(book)
    assert result.customers["computed"].tolist() == ["项目级", "集团级", "未达标"]
    book.save_as(tmp_path / "out.xlsx")

    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")[ROSTER.sheet]
    header = [c.value for c in ws[1]]
    tier_col = header.index(ROSTER["calc_tier"].header) + 1
    reason_col = header.index(ROSTER["tier_reason"].header) + 1
    assert [ws.cell(r, tier_col).value for r in (2, 3, 4)] == ["项目级", "集团级", "未达标"]
    assert "HT-2" in ws.cell(3, reason_col).value and "HT-3" in ws.cell(3, reason_col).value


def test_button_reports_an_unreadable_quarter_in_a_message_box(tmp_path: Path) -> None:
    info = {**INFO_OK, "quarter": "下季度"}
    src = write_submission(
        tmp_path / "b.xlsx", info, {"roster": [roster_row()]}, layout=Layout(data_rows=10)
    )
    book = OpenpyxlBook.open(src)
    run(book)
    assert "报送季度无法识别" in book.alerts[-1][1]
