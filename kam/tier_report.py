"""Tiers of one submission's or register's roster: computed tier, reason and check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kam.errors import UsageError
from kam.forms import CONTRACTS, ROSTER
from kam.reason_en import reason_en
from kam.rules import Rules
from kam.submission import Submission
from kam.tiers import check_tiers, compute_tiers

if TYPE_CHECKING:
    from kam.register.inputs import Rejected

WILL_BE_REJECTED = "合并时将被拒收，届时计算等级可能不同"


@dataclass
class TierReport:
    """The `kam tier` result (DOMAIN §7.1)."""

    as_of: dt.date
    # key, name, recorded, computed, check, reason, rejected_inputs; index = sheet row
    customers: pd.DataFrame
    numbering: str = "行"  # what the index is: the sheet row, or a register's 序号

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        rows = self.customers.astype(object).where(self.customers.notna(), None)
        if lang == "en":
            rows["reason"] = rows["reason"].map(reason_en)
        return {"as_of": self.as_of.isoformat(), "customers": rows.to_dict(orient="records")}


def tier_submission(sub: Submission, as_of: dt.date | None, rules: Rules) -> TierReport:
    """Compute every roster customer's tier on `as_of` (default: the quarter's last day).

    Contracts a merge would reject still count here (the branch sees what it typed), but a
    check they could overturn is 'unverified' and the reason says how many a merge rejects.
    """
    from kam.register.inputs import submission_rejected

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
    lost = submission_rejected(sub, rules)
    customers = _customers(roster.frame, deals, as_of, rules, lost, WILL_BE_REJECTED)
    return TierReport(as_of, customers)


def tier_register(path: Path, as_of: dt.date | None, rules: Rules) -> TierReport:
    """The same over a register: every register customer and every merged contract."""
    from kam.register.assess import register_as_of, unique_contracts
    from kam.register.inputs import rejected_inputs
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
    lost = rejected_inputs(view, prev.refused, prev.sources)
    return TierReport(as_of, _customers(frame, deals, as_of, rules, lost), numbering="序号")


def _customers(
    frame: pd.DataFrame,
    deals: pd.DataFrame,
    as_of: dt.date,
    rules: Rules,
    lost: Rejected,
    consequence: str | None = None,
) -> pd.DataFrame:
    """One row per roster customer: key, name, recorded, computed, check, reason and how
    many of its rows were rejected (the check and reason say what that leaves unproven)."""
    from kam.register.assess import guarded_checks, guarded_reasons

    result = compute_tiers(frame, deals, as_of, rules.tier)
    checks = check_tiers(frame["tier"], result["computed"], rules.tier)
    say = {"consequence": consequence} if consequence else {}
    return pd.DataFrame(
        {
            "key": frame["uscc"],
            "name": frame["name"],
            "recorded": frame["tier"],
            "computed": result["computed"],
            "check": guarded_checks(checks, result["computed"], lost.tier_doubt, rules),
            "reason": guarded_reasons(result["reason"], result["computed"], lost, rules, **say),
            "rejected_inputs": lost.contracts.astype(object),
        },
        index=frame.index,
    )
