"""Group exposure per risky customer (DOMAIN §9.2), summed over every unit's contracts.

Contracts are counted once per (来源单位, USCC, 合同编号), the latest quarter's row, so a
contract sent again next quarter is not counted twice, while two units' contracts are
both counted. Each exposure cites the 合同台账 rows it sums.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kam.forms import ROSTER, Field, Form, Kind
from kam.insight.facts import Facts, text, unique_deals
from kam.register.columns import EXPOSURE_SHEET, NO_RISK, RISK_LEVEL_COL

OVERDUE = "逾期"
LEVEL_ORDER = {"高": 0, "中": 1, "低": 2}

EXPOSURE = Form(
    "exposure",
    EXPOSURE_SHEET,
    (
        ROSTER["name"],
        ROSTER["uscc"],
        RISK_LEVEL_COL,
        Field("unit_count", "涉及单位数", Kind.INTEGER, width=10),
        Field("units", "涉及单位", width=30),
        Field("contracts", "合同数", Kind.INTEGER, width=8),
        Field("amount_5y", "近5年合同额（万元）", Kind.NUMBER, width=16),
        Field("receivable", "应收余额合计（万元）", Kind.NUMBER, width=16),
        Field("overdue_receivable", "逾期应收（万元）", Kind.NUMBER, width=14),
        Field("max_overdue_days", "最长逾期天数", Kind.INTEGER, width=12),
        Field("cited_rows", "依据（合同台账行）", width=30),
    ),
    help="每个有风险的客户一行：全集团各单位的合同与应收，按风险等级、应收余额合计排序",
)
EXPOSURE_COLUMNS = (
    "unit_count",
    "units",
    "contracts",
    "amount_5y",
    "receivable",
    "overdue_receivable",
    "max_overdue_days",
)
"""The exposure columns the 紧急预警 block of 汇总 shows."""


@dataclass(frozen=True)
class Exposure:
    """One customer's exposure across the group, and per unit."""

    units: list[str]
    contracts: int
    amount_5y: float
    receivable: float
    overdue_receivable: float
    max_overdue_days: int
    rows: list[int]  # 合同台账 rows summed
    per_unit: dict[str, dict[str, Any]]

    def cell(self, fid: str) -> object:
        """The value of one 风险敞口 column."""
        if fid == "unit_count":
            return len(self.units)
        if fid == "units":
            return "、".join(self.units)
        return getattr(self, fid)

    def to_json(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "contracts": self.contracts,
            "amount_5y": self.amount_5y,
            "receivable": self.receivable,
            "overdue_receivable": self.overdue_receivable,
            "max_overdue_days": self.max_overdue_days,
            "rows": self.rows,
            "per_unit": self.per_unit,
        }


def exposures(f: Facts) -> dict[str, Exposure]:
    """USCC -> its exposure, for every register customer."""
    return exposures_of(f.tables["contracts"], text(f.view["uscc"]), f.window_from, f.as_of)


def exposures_of(
    contracts: pd.DataFrame, keys: pd.Series, window_from: dt.date, as_of: dt.date
) -> dict[str, Exposure]:
    """USCC -> exposure over contract rows carrying 来源单位 (source_unit) and 报送季度."""
    deals = unique_deals(contracts)
    deals["_key"] = text(deals["uscc"])
    start, end = pd.Timestamp(window_from), pd.Timestamp(as_of)
    signed = deals["signed_on"]
    deals["_5y"] = deals["amount"].where((signed >= start) & (signed <= end), 0).fillna(0)
    late = text(deals["pay_status"]) == OVERDUE
    deals["_rec"] = deals["receivable"].fillna(0)
    deals["_late_rec"] = deals["_rec"].where(late, 0)
    deals["_days"] = deals["overdue_days"].where(late, 0).fillna(0)
    empty = Exposure([], 0, 0.0, 0.0, 0.0, 0, [], {})
    out = dict.fromkeys(keys, empty)
    if deals.empty:
        return out
    sums = {
        "contracts": ("row", "size"),
        "amount_5y": ("_5y", "sum"),
        "receivable": ("_rec", "sum"),
        "overdue_receivable": ("_late_rec", "sum"),
        "max_overdue_days": ("_days", "max"),
    }
    per = deals.groupby(["_key", "source_unit"], sort=True).agg(**sums)
    whole = deals.groupby("_key", sort=False).agg(**sums)
    cited = deals.groupby("_key", sort=False)["row"].agg(list)
    units: dict[str, dict[str, dict[str, Any]]] = {}
    for (key, unit), r in zip(per.index, per.itertuples(index=False), strict=True):
        units.setdefault(key, {})[str(unit)] = _figures(r)
    for key, r in zip(whole.index, whole.itertuples(index=False), strict=True):
        if key in out:
            fig = _figures(r)
            out[key] = Exposure(
                units=list(units[key]),
                rows=[int(x) for x in cited[key]],
                per_unit=units[key],
                **fig,
            )
    return out


def _figures(r: Any) -> dict[str, Any]:
    return {
        "contracts": int(r.contracts),
        "amount_5y": _money(r.amount_5y),
        "receivable": _money(r.receivable),
        "overdue_receivable": _money(r.overdue_receivable),
        "max_overdue_days": int(r.max_overdue_days),
    }


def _money(value: float) -> float:
    """Sums of 万元 amounts, rounded off binary noise (to 1/10000 万元 = 1 元)."""
    return round(float(value), 4)


def add_exposure(doc: dict[str, Any], found: dict[str, Exposure]) -> dict[str, Any]:
    """`kam risk --json`: each customer gains its `exposure` object (DOMAIN §9.2)."""
    empty = Exposure([], 0, 0.0, 0.0, 0.0, 0, [], {})
    for customer in doc["customers"]:
        customer["exposure"] = found.get(customer["key"] or "", empty).to_json()
    return doc


def exposure_rows(f: Facts, found: dict[str, Exposure]) -> pd.DataFrame:
    """风险敞口: every customer at risk, by level then 应收余额合计 (largest first)."""
    ids = [x.id for x in EXPOSURE.fields]
    view = f.view.assign(_level=f.level, _key=text(f.view["uscc"]))
    risky = view[view["_level"].isin(list(LEVEL_ORDER))]
    rows = []
    for _, c in risky.iterrows():
        e = found.get(c["_key"]) or Exposure([], 0, 0.0, 0.0, 0.0, 0, [], {})
        rows.append(
            {
                "name": c["name"],
                "uscc": c["_key"],
                "risk_level": c["_level"],
                "unit_count": len(e.units),
                "units": "、".join(e.units),
                "contracts": e.contracts,
                "amount_5y": e.amount_5y,
                "receivable": e.receivable,
                "overdue_receivable": e.overdue_receivable,
                "max_overdue_days": e.max_overdue_days,
                "cited_rows": row_ranges(e.rows),
            }
        )
    frame = pd.DataFrame(rows, columns=ids)
    if frame.empty:
        return frame.astype(object)
    frame["_o"] = frame["risk_level"].map(LEVEL_ORDER)
    frame = frame.sort_values(["_o", "receivable"], ascending=[True, False], kind="stable")
    return frame.drop(columns="_o").reset_index(drop=True).astype(object)


def row_ranges(rows: list[int]) -> str:
    """[2, 3, 4, 9] -> '2-4、9'."""
    parts: list[str] = []
    for r in sorted(rows):
        if parts and parts[-1].split("-")[-1] == str(r - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{r}"
        else:
            parts.append(str(r))
    return "、".join(parts)


__all__ = ["EXPOSURE", "NO_RISK", "Exposure", "exposure_rows", "exposures"]
