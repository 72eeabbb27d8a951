"""How the register's sheets look: risk fills driven by live formulas, and the page setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kam.findings import column_letter
from kam.forms import Form

if TYPE_CHECKING:
    from kam.register.writer import RegisterData

RISK_FILLS = {"高": "#FF9999", "中": "#FFC000", "低": "#FFFF99"}


def print_setup(ws: Worksheet, repeat_header: bool = False, tall: int = 0) -> None:
    """A4 landscape, one page wide and `tall` pages long (0: as many as needed), the header
    row repeated on each page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, tall)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    if repeat_header:
        ws.repeat_rows(0)


def risk_highlight(wb: xlsxwriter.Workbook, ws: Worksheet, form: Form, n: int) -> None:
    """Live highlights driven by the risk-level columns (a manual level wins)."""
    level = column_letter([f.id for f in form.fields].index("risk_level"))
    manual = column_letter([f.id for f in form.fields].index("manual_risk"))
    last = max(n, 1) + 1
    for text, colour in RISK_FILLS.items():
        fmt = wb.add_format({"bg_color": colour})
        rule = f'=IF(${manual}2<>"",${manual}2,${level}2)="{text}"'
        ws.conditional_format(
            1,
            0,
            last - 1,
            len(form.fields) - 1,
            {"type": "formula", "criteria": rule, "format": fmt},
        )


def cell_highlights(
    wb: xlsxwriter.Workbook, ws: Worksheet, form: Form, n: int, data: RegisterData
) -> None:
    """Live fills on the values that fire a rule: 逾期天数 by band, an overdue 响应时限."""
    ids = [f.id for f in form.fields]
    last = max(n, 1)

    def letter(fid: str) -> str:
        return column_letter(ids.index(fid))

    def paint(fid: str, level: str, rule: str) -> None:
        col = ids.index(fid)
        fmt = wb.add_format({"bg_color": RISK_FILLS[level], "bold": True})
        ws.conditional_format(
            1, col, last, col, {"type": "formula", "criteria": rule, "format": fmt}
        )

    if {"pay_status", "overdue_days"} <= set(ids):
        status, days = letter("pay_status"), letter("overdue_days")
        r = data.risk_rules
        overdue = f'${status}2="逾期"'
        paint("overdue_days", "高", f"=AND({overdue},${days}2>{r.overdue_high_gt})")
        paint("overdue_days", "中", f"=AND({overdue},${days}2>{r.overdue_medium_gt})")
        paint("overdue_days", "低", f"=AND({overdue},${days}2>0)")
    if {"closed", "deadline"} <= set(ids) and data.as_of is not None:
        closed, due = letter("closed"), letter("deadline")
        d = data.as_of
        paint(
            "deadline",
            "中",
            f'=AND(${closed}2<>"是",ISNUMBER(${due}2),${due}2<DATE({d.year},{d.month},{d.day}))',
        )
