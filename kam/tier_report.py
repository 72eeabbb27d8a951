"""Tiers of one submission's roster: computed tier, reason and check per customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kam.errors import UsageError
from kam.forms import CONTRACTS, ROSTER
from kam.reason_en import reason_en
from kam.rules import Rules
from kam.submission import Submission
from kam.tiers import check_tiers, compute_tiers


@dataclass
class TierReport:
    """The `kam tier` result (DOMAIN §7.1)."""

    as_of: dt.date
    customers: pd.DataFrame  # key, name, recorded, computed, check, reason; index = sheet row
    numbering: str = "行"  # what the index is: the sheet row, or a register's 序号

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        rows = self.customers.astype(object).where(self.customers.notna(), None)
        if lang == "en":
            rows["reason"] = rows["reason"].map(reason_en)
        return {"as_of": self.as_of.isoformat(), "customers": rows.to_dict(orient="records")}


def tier_submission(sub: Submission, as_of: dt.date | None, rules: Rules) -> TierReport:
    """Compute every roster customer's tier on `as_of` (default: the quarter's last day)."""
    roster = sub.sheets.get(ROSTER.id)
    if roster is None or "uscc" not in roster.present:
        raise UsageError(f"{sub.file}: 找不到“{ROSTER.sheet}”工作表或其统一社会信用代码列")
    as_of = as_of or sub.as_of
    if as_of is None:
        raise UsageError(f"{sub.file}: 报送季度无法识别，请用 --as-of YYYY-MM-DD 指定评价日期")
    contracts = sub.sheets.get(CONTRACTS.id)
    deals = (
        contracts.frame
        if contracts is not None
        else pd.DataFrame({f.id: [] for f in CONTRACTS.data_fields})
    )
    return TierReport(as_of, _customers(roster.frame, deals, as_of, rules))


def tier_register(path: Path, as_of: dt.date | None, rules: Rules) -> TierReport:
    """The same over a register: every register customer and every merged contract."""
    from kam.register.assess import register_as_of, unique_contracts
    from kam.register.owners import resolve
    from kam.register.previous import read_previous

    prev = read_previous(path)
    if not prev.exists:
        raise UsageError(f"{path} 不是已有的集团大客户名录，请先运行 kam merge")
    view = resolve(prev.tables["roster"]).view.reset_index(drop=True)
    view.index = view.index + 1
    as_of = as_of or register_as_of(view)
    if as_of is None:
        raise UsageError(f"{path} 中没有可识别的报送季度，请用 --as-of YYYY-MM-DD 指定评价日期")
    deals = unique_contracts(prev.tables["contracts"])
    frame = view[[f.id for f in ROSTER.data_fields]]
    return TierReport(as_of, _customers(frame, deals, as_of, rules), numbering="序号")


def _customers(
    frame: pd.DataFrame, deals: pd.DataFrame, as_of: dt.date, rules: Rules
) -> pd.DataFrame:
    """One row per roster customer: key, name, recorded, computed, check, reason."""
    result = compute_tiers(frame, deals, as_of, rules.tier)
    customers = pd.DataFrame(
        {
            "key": frame["uscc"],
            "name": frame["name"],
            "recorded": frame["tier"],
            "computed": result["computed"],
            "check": check_tiers(frame["tier"], result["computed"], rules.tier),
            "reason": result["reason"],
        },
        index=frame.index,
    )
    return customers
