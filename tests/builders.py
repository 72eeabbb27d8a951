"""Small builders of raw workbooks for rule tests: headers always come from kam.forms."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from kam.forms import FORMS, INFO, TABLE_FORMS, TEMPLATE_VERSION, Form
from kam.io.raw import RawBook, RawSheet

GOOD_USCC = "91350100M000100Y43"  # a published, valid code (check character 3)

INFO_OK: dict[str, Any] = {
    "unit": "华东分公司",
    "quarter": "2026Q3",
    "filler": "王敏",
    "phone": "021-62345678",
    "submitted_on": dt.datetime(2026, 10, 10),
    "version": TEMPLATE_VERSION,
}


def roster_row(uscc: str = GOOD_USCC, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": "上海浦江城市建设投资有限公司",
        "uscc": uscc,
        "nature": "国有企业",
        "industry": "基础设施",
        "tier": "项目级",
        "unit": "华东分公司",
        "owner": "李强",
        "owner_title": "客户经理",
        "phone": "13812345678",
        "strategic": "否",
        "listed_on": dt.datetime(2024, 3, 1),
        "remark": None,
    }
    row.update(over)
    return row


def contract_row(uscc: str = GOOD_USCC, no: str = "HT-2025-001", **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": uscc,
        "contract_no": no,
        "project": "浦东综合管廊工程",
        "signed_on": dt.datetime(2025, 5, 10),
        "amount": 6000.0,
        "pay_status": "按时",
        "overdue_days": None,
        "receivable": 120.0,
    }
    row.update(over)
    return row


def card_row(uscc: str = GOOD_USCC, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": uscc,
        "address": "上海市浦东新区世纪大道 100 号",
        "business": "城市基础设施投资",
        "org_chain": "董事会—总经理—基建部",
        "contact": "陈总",
        "contact_title": "副总经理",
        "contact_phone": "13912345678",
        "contact_email": "chen@example.com",
        "history": "2019 年起合作",
        "needs": "工期要求高",
        "risks": "无",
    }
    row.update(over)
    return row


def raw_book(
    info: Mapping[str, Any] | None = None,
    rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    *,
    drop_sheets: Sequence[str] = (),
    file: str = "test.xlsx",
) -> RawBook:
    """A RawBook laid out exactly like the template (headers in row 1, info pairs in A:B)."""
    info = dict(INFO_OK if info is None else info)
    rows = rows if rows is not None else DEFAULT_ROWS
    sheets: dict[str, RawSheet] = {}
    for form in FORMS:
        if form.id in drop_sheets:
            continue
        if form is INFO:
            grid = [[f.header, info.get(f.id)] for f in form.fields]
        else:
            grid = table_grid(form, rows.get(form.id, []))
        sheets[form.sheet] = RawSheet(form.sheet, grid)
    return RawBook(file, sheets)


def table_grid(form: Form, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    fields = form.data_fields
    return [[f.header for f in fields]] + [[r.get(f.id) for f in fields] for r in rows]


def write_book(path: Path, raw: RawBook, vba: bytes | None = None) -> Path:
    """The raw grid as a real workbook (xlsxwriter, dates as Excel dates)."""
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, sheet in raw.sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, date_fmt)
                elif value is not None:
                    ws.write(r, c, value)
    if vba is not None:
        wb.add_vba_project(io.BytesIO(vba), is_stream=True)
        wb.worksheets()[0].insert_button("N2", {"macro": "kam_validate", "caption": "校验"})
    wb.close()
    return path


__all__ = ["TABLE_FORMS", "card_row", "contract_row", "raw_book", "roster_row", "table_grid"]

DEFAULT_ROWS = {"roster": [roster_row()], "cards": [card_row()], "contracts": [contract_row()]}
"""A clean one-customer book: its 6000 万元 contract supports the recorded 项目级."""
