"""`tier_unsupported` / `tier_upgrade`: the recorded 大客户等级 against the computed tier."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import CONTRACTS, ROSTER, TIER
from kam.tiers import check_tiers, compute_tiers

UNSUPPORTED, UPGRADE = "tier_unsupported", "tier_upgrade"
GROUP_TIER = TIER.values[0]


def check(ctx: CheckContext) -> Iterator[Finding]:
    roster = ctx.submission.sheets.get(ROSTER.id)
    if ctx.as_of is None or roster is None or not {"uscc", "tier"} <= roster.present:
        return
    contracts = ctx.submission.sheets.get(CONTRACTS.id)
    deals = contracts.frame if contracts is not None else pd.DataFrame(columns=list(CONTRACTS_IDS))
    result = compute_tiers(roster.frame, deals, ctx.as_of, ctx.rules.tier)
    verdict = check_tiers(roster.frame["tier"], result["computed"], ctx.rules.tier)
    recorded = roster.frame["tier"]
    for rule in (UNSUPPORTED, UPGRADE):
        yield from roster.emit(
            ctx.file,
            rule,
            "tier",
            verdict == rule,
            per_row=lambda row: {
                "recorded": recorded.at[row],
                "computed": result.at[row, "computed"],
                "reason": result.at[row, "reason"],
                "note": "；升级为集团级须报集团审批"
                if result.at[row, "computed"] == GROUP_TIER
                else "",
            },
        )


CONTRACTS_IDS = tuple(f.id for f in CONTRACTS.data_fields)
