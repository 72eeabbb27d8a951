"""The register rows the insight figures are computed from, in one typed bundle.

A merge builds them from what it is about to write; `kam kpi` / `kam notice` / `kam risk`
read them back from the register file (kam.register.previous) and recompute the same way,
so the CLI and the sheets always agree.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam.forms import TIER, YES_NO
from kam.register.columns import NO_RISK
from kam.rules import Rules
from kam.tiers import quarter_end, window_start

GROUP_TIER = TIER.values[0]
YES, NO = YES_NO.values


@dataclass
class Facts:
    """The latest quarter's view of the register, with every table it was built from."""

    quarter: str  # the register's latest 报送季度
    as_of: dt.date  # its last day
    view: pd.DataFrame  # 集团大客户名录 rows (computed and HQ columns filled)
    tables: dict[str, pd.DataFrame]  # source form id -> merged rows (with provenance)
    risks: pd.DataFrame  # 风险清单 rows: uscc, name, unit, rule, risk_level, detail
    sources: pd.DataFrame  # _kam_sources: one row per file ever merged or refused
    rules: Rules
    branches: tuple[str, ...] = ()  # the known branch list (rules file / --branches)
    level: pd.Series = field(init=False)  # effective risk level per view row (HQ's wins)

    def __post_init__(self) -> None:
        manual = self.view["manual_risk"].where(_filled(self.view["manual_risk"]))
        level = manual.fillna(self.view["risk_level"])
        self.level = level.where(_filled(level), NO_RISK)

    @functools.cached_property
    def deals(self) -> pd.DataFrame:
        """Every contract once per unit (unique_deals), shared by the scorecard and exposure."""
        return unique_deals(self.tables["contracts"])

    @property
    def quarter_start(self) -> dt.date:
        return previous_quarter_end(self.quarter) + dt.timedelta(days=1)

    @property
    def window_from(self) -> dt.date:
        """First day of the tier window (近5年) ending on as-of."""
        return window_start(self.as_of, self.rules.tier.default.window_years)

    def bankrupt(self) -> list[str]:
        """USCCs under a bankruptcy warning, in 风险清单 order."""
        if self.risks.empty:
            return []
        keys = self.risks.loc[self.risks["rule"] == "bankruptcy", "uscc"]
        return list(dict.fromkeys(k for k in keys if isinstance(k, str) and k))


def previous_quarter(quarter: str) -> str:
    """'2026Q1' -> '2025Q4'."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def previous_quarter_end(quarter: str) -> dt.date:
    return quarter_end(previous_quarter(quarter))


def latest_quarter(view: pd.DataFrame) -> str | None:
    quarters = [q for q in view.get("quarter", ()) if isinstance(q, str) and q]
    return max(quarters) if quarters else None


def _per_distinct(values: pd.Series, clean: Callable[[object], object]) -> pd.Series:
    """clean() applied once per distinct value (registers repeat values a lot)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    done = np.array([clean(v) for v in uniques] + [clean(None)], dtype=object)
    return pd.Series(done[codes], index=values.index, dtype=object)


def _filled(values: pd.Series) -> pd.Series:
    return _per_distinct(values, lambda v: v is not None and v == v and str(v).strip() != "")


def filled(values: pd.Series) -> pd.Series:
    """True where a cell holds something (not None, NaN or blank text)."""
    return _filled(values).astype(bool)


def dates(values: pd.Series) -> pd.Series:
    """A column as datetime64 (blank or unreadable -> NaT)."""
    return pd.to_datetime(values, errors="coerce")


def numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def text(values: pd.Series) -> pd.Series:
    """Stripped text, '' for blanks."""
    return _per_distinct(values, lambda v: str(v).strip() if v is not None and v == v else "")


def unique_deals(contracts: pd.DataFrame) -> pd.DataFrame:
    """Every contract once, per unit: the latest quarter's row of (来源单位, USCC, 合同编号).

    `row` is the 合同台账 sheet row the figure cites: a given `row` column (a submission's
    sheet rows), else the frame position + 2 (the register writes one header row).
    """
    deals = contracts.reset_index(drop=True).copy()
    if "row" not in deals:
        deals["row"] = deals.index + 2
    deals["_q"] = text(deals["quarter"])
    deals = deals.sort_values("_q", kind="stable").drop_duplicates(
        ["source_unit", "uscc", "contract_no"], keep="last"
    )
    deals["signed_on"] = dates(deals["signed_on"])
    for c in ("amount", "receivable", "overdue_days"):
        deals[c] = numbers(deals[c])
    deals["source_unit"] = text(deals["source_unit"])
    return deals.drop(columns="_q").sort_values("row", kind="stable")
