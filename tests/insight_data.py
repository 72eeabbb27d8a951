"""Hand-made register rows for the insight tests: Facts built straight from small frames."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kam.insight.facts import Facts
from kam.register.columns import REG_BY_SOURCE, REG_ROSTER, RISK_LIST, SOURCES
from kam.rules import Rules, load_rules
from kam.uscc import make_uscc

QUARTER = "2026Q3"
AS_OF = dt.date(2026, 9, 30)
Q_START = dt.date(2026, 7, 1)


def day(d: dt.date | None) -> dt.datetime | None:
    return None if d is None else dt.datetime.combine(d, dt.time())


def customer(n: int, unit: str = "华东分公司", **over: Any) -> dict[str, Any]:
    """A register row (集团大客户名录) of customer number n."""
    row = {
        "name": f"客户{n}有限公司",
        "uscc": make_uscc(n),
        "nature": "国有企业",
        "tier": "项目级",
        "unit": unit,
        "owner": "李强",
        "strategic": "否",
        "listed_on": day(dt.date(2024, 1, 1)),
        "calc_tier": "项目级",
        "risk_level": "无",
        "source_unit": unit,
        "quarter": QUARTER,
    }
    return row | over


def card(n: int, empty: int = 0, unit: str = "华东分公司", **over: Any) -> dict[str, Any]:
    """A 信息登记卡 row with its first `empty` expected fields left blank."""
    from kam.insight.kpi import EXPECTED

    row: dict[str, Any] = {"uscc": make_uscc(n), "source_unit": unit, "quarter": QUARTER}
    row |= {fid: ("" if i < empty else "有") for i, fid in enumerate(EXPECTED)}
    return row | over


def maint(n: int, unit: str = "华东分公司", **over: Any) -> dict[str, Any]:
    row = {
        "date": day(dt.date(2026, 7, 5)),
        "uscc": make_uscc(n),
        "method": "电话",
        "unit": unit,
        "summary": "回访",
        "owner": "李强",
        "source_unit": unit,
        "quarter": QUARTER,
    }
    return row | over


def deal(n: int, no: str, unit: str = "华东分公司", **over: Any) -> dict[str, Any]:
    row = {
        "uscc": make_uscc(n),
        "contract_no": no,
        "project": "工程",
        "signed_on": day(dt.date(2025, 5, 1)),
        "amount": 100.0,
        "pay_status": "按时",
        "overdue_days": None,
        "receivable": 0.0,
        "source_unit": unit,
        "quarter": QUARTER,
    }
    return row | over


def source(unit: str, rows_in: int = 10, rejected: int = 0, **over: Any) -> dict[str, Any]:
    row = {
        "unit": unit,
        "file": f"{unit}.xlsx",
        "quarter": QUARTER,
        "status": "merged" if rejected == 0 else "partial",
        "rows_in": rows_in,
        "merged": rows_in - rejected,
        "rejected": rejected,
        "duplicate": 0,
        "submitted_on": day(dt.date(2026, 10, 10)),
    }
    return row | over


def frame(form_fields: list[str], rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=form_fields, dtype=object)


def make_facts(
    view: list[dict[str, Any]],
    *,
    cards: list[dict[str, Any]] = (),  # type: ignore[assignment]
    maintenance: list[dict[str, Any]] = (),  # type: ignore[assignment]
    contracts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    risks: list[dict[str, Any]] = (),  # type: ignore[assignment]
    sources: list[dict[str, Any]] = (),  # type: ignore[assignment]
    rules: Rules | None = None,
    branches: tuple[str, ...] = (),
) -> Facts:
    """Facts of a register holding exactly these rows."""
    tables = {
        sid: frame([f.id for f in form.fields], [])
        for sid, form in REG_BY_SOURCE.items()
        if sid != "roster"
    }
    given = {"cards": cards, "maintenance": maintenance, "contracts": contracts}
    for sid, rows in given.items():
        tables[sid] = frame([f.id for f in REG_BY_SOURCE[sid].fields], list(rows))
    return Facts(
        QUARTER,
        AS_OF,
        frame([f.id for f in REG_ROSTER.fields], list(view)),
        tables,
        frame([f.id for f in RISK_LIST.fields], list(risks)),
        frame([f.id for f in SOURCES.fields], list(sources)),
        rules or load_rules(),
        branches,
    )
