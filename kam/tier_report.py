"""Tiers of one submission's roster: computed tier, reason and check per customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kam.errors import UsageError
from kam.forms import CONTRACTS, ROSTER
from kam.rules import Rules
from kam.submission import Submission
from kam.tiers import check_tiers, compute_tiers

WILL_BE_REJECTED = "合并时将被拒收，届时计算等级可能不同"


@dataclass
class TierReport:
    """The `kam tier` result (DOMAIN §7.1)."""

    as_of: dt.date
    customers: pd.DataFrame  # key, name, recorded, computed, check, reason, rejected_inputs

    def to_json(self) -> dict[str, Any]:
        rows = self.customers.astype(object).where(self.customers.notna(), None)
        return {"as_of": self.as_of.isoformat(), "customers": rows.to_dict(orient="records")}


def tier_submission(sub: Submission, as_of: dt.date | None, rules: Rules) -> TierReport:
    """Compute every roster customer's tier on `as_of` (default: the quarter's last day).

    Contracts a merge would reject still count here (the branch sees what it typed), but a
    check they could overturn is 'unverified' and the reason says how many a merge rejects.
    """
    from kam.register.assess import guarded_checks, guarded_reasons
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
    frame = roster.frame
    result = compute_tiers(frame, deals, as_of, rules.tier)
    lost = submission_rejected(sub, rules)
    checks = check_tiers(frame["tier"], result["computed"], rules.tier)
    customers = pd.DataFrame(
        {
            "key": frame["uscc"],
            "name": frame["name"],
            "recorded": frame["tier"],
            "computed": result["computed"],
            "check": guarded_checks(checks, result["computed"], lost.tier_doubt, rules),
            "reason": guarded_reasons(
                result["reason"], result["computed"], lost, rules, WILL_BE_REJECTED
            ),
            "rejected_inputs": lost.contracts.astype(object),
        },
        index=frame.index,
    )
    return TierReport(as_of, customers)
