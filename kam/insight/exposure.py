"""Group exposure per risky customer (DOMAIN §9.2), summed over every unit's contracts.

Contracts are counted once per (来源单位, USCC, 合同编号), the latest quarter's row, so a
contract sent again next quarter is not counted twice, while two units' contracts are
both counted. Each exposure cites the 合同台账 rows it sums.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kam.forms import PAY_STATUS, ROSTER, Field, Form, Kind
from kam.insight.facts import Facts, text
from kam.register.columns import EXPOSURE_SHEET, NO_RISK, RISK_LEVEL_COL

OVERDUE = PAY_STATUS.values[1]  # 逾期
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
            "units": self.units,  # the units' names; unit_count is 涉及单位数
            "unit_count": len(self.units),
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
    return exposures_of(f.deals, text(f.view["uscc"]), f.window_from, f.as_of)


def exposures_of(
    deals: pd.DataFrame, keys: pd.Series, window_from: dt.date, as_of: dt.date
) -> dict[str, Exposure]:
    """USCC -> exposure over the contracts of unique_deals() (each counted once per unit)."""
    deals = deals.copy()
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
    ordered = deals.sort_values(["_key", "row"], kind="stable")
    keys_sorted = ordered["_key"].to_numpy(object)
    cuts = np.flatnonzero(keys_sorted[1:] != keys_sorted[:-1]) + 1
    cited = {
        part_keys[0]: part_rows.tolist()
        for part_keys, part_rows in zip(
            np.split(keys_sorted, cuts), np.split(ordered["row"].to_numpy(int), cuts), strict=True
        )
    }
    units: dict[str, dict[str, dict[str, Any]]] = {}
    for (key, unit), fig in zip(per.index, _figures(per), strict=True):
        units.setdefault(key, {})[str(unit)] = fig
    for key, fig in zip(whole.index, _figures(whole), strict=True):
        if key in out:
            out[key] = Exposure(units=list(units[key]), rows=cited[key], per_unit=units[key], **fig)
    return out


def _figures(sums: pd.DataFrame) -> list[dict[str, Any]]:
    """The summed columns as plain numbers: counts as int, amounts rounded to 1 元."""
    money = ["amount_5y", "receivable", "overdue_receivable"]
    out = sums[money].round(4).astype(float)
    out["contracts"] = sums["contracts"].astype(int)
    out["max_overdue_days"] = sums["max_overdue_days"].astype(int)
    return out.to_dict(orient="records")


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
    empty = Exposure([], 0, 0.0, 0.0, 0.0, 0, [], {})
    rows = []
    for name, key, level in zip(risky["name"], risky["_key"], risky["_level"], strict=True):
        e = found.get(key) or empty
        rows.append(
            {
                "name": name,
                "uscc": key,
                "risk_level": level,
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
