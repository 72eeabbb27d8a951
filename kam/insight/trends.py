"""趋势 (DOMAIN §9.5): each merge appends the quarter's headline counts to a hidden table.

The history sheet is append-only: a merge copies every stored row and adds one; it never
changes a stored value. The 趋势 sheet shows, per quarter, the latest row recorded for it
(a resubmission merged later updates that quarter's figures) and charts them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam.forms import RISK_LEVEL, TIER, UNMET_TIER, Field, Form, Kind
from kam.insight.facts import Facts, text
from kam.insight.kpi import NO_DATA, SPECS, Scorecard
from kam.register.columns import NO_RISK, QUARTER

TIERS = (*TIER.values, UNMET_TIER)
LEVELS = (*RISK_LEVEL.values, NO_RISK)
TREND_KPIS = tuple(s for s in SPECS if s.kind in ("ratio", "count", "amount"))
RECORDED = Field("recorded_at", "记录时间", Kind.DATE, width=18)
TIER_FIELDS = tuple(Field(f"tier_{i}", f"客户数·{t}", Kind.INTEGER) for i, t in enumerate(TIERS))
LEVEL_FIELDS = tuple(Field(f"risk_{i}", f"风险·{v}", Kind.INTEGER) for i, v in enumerate(LEVELS))
KPI_FIELDS = tuple(Field(s.id, s.header, Kind.NUMBER, width=16) for s in TREND_KPIS)

HISTORY = Form(
    "trend_history",
    "_kam_trends",
    (QUARTER, RECORDED, *TIER_FIELDS, *LEVEL_FIELDS, *KPI_FIELDS),
    help="隐藏表：每次合并追加一行本季度的主要指标，从不改写（趋势表取每季度最新一行）",
)


def headline(f: Facts, card: Scorecard, now: dt.datetime) -> dict[str, object]:
    """This quarter's row: customers by tier and by risk level, and each measure (全集团)."""
    tiers = text(f.view["tier"]).where(lambda t: t.isin(TIERS[:-1]), UNMET_TIER)
    row: dict[str, object] = {"quarter": f.quarter, "recorded_at": now}
    for fld, tier in zip(TIER_FIELDS, TIERS, strict=True):
        row[fld.id] = int((tiers == tier).sum())
    for fld, level in zip(LEVEL_FIELDS, LEVELS, strict=True):
        row[fld.id] = int((f.level == level).sum())
    for spec in TREND_KPIS:
        m = card.group.get(spec.id)
        row[spec.id] = None if m is None or m.value == NO_DATA else m.value
    return row


def appended(old: pd.DataFrame, row: dict[str, object]) -> pd.DataFrame:
    """The stored history plus one row (stored rows are copied as they are)."""
    ids = [f.id for f in HISTORY.fields]
    new = pd.DataFrame([row], columns=ids, dtype=object)
    if old is None or old.empty:
        return new
    return pd.concat([old.reindex(columns=ids).astype(object), new], ignore_index=True)


def by_quarter(history: pd.DataFrame) -> pd.DataFrame:
    """One row per quarter, the latest recorded (the 趋势 sheet's table), oldest first."""
    if history.empty:
        return history
    h = history.assign(_q=text(history["quarter"]), _n=range(len(history)))
    h = h[h["_q"] != ""].sort_values(["_q", "_n"]).drop_duplicates("_q", keep="last")
    return h.drop(columns=["_q", "_n"]).reset_index(drop=True)
