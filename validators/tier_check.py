"""`tier_unsupported` / `tier_upgrade`: the recorded 大客户等级 against the computed tier."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import CONTRACTS, ROSTER, TIER
from kam.reason_en import reason_en
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
    flagged = (verdict != "ok").to_numpy()
    if not flagged.any():
        return
    # Message params of the flagged rows, gathered column-wise (not one lookup per row).
    params = {
        row: {
            "recorded": recorded,
            "computed": computed,
            "reason": reason,
            "reason_en": reason_en(reason),
            "note": "；升级为集团级须报集团审批" if computed == GROUP_TIER else "",
        }
        for row, recorded, computed, reason in zip(
            roster.frame.index[flagged].tolist(),
            roster.frame["tier"].to_numpy(dtype=object)[flagged].tolist(),
            result["computed"].to_numpy(dtype=object)[flagged].tolist(),
            result["reason"].to_numpy(dtype=object)[flagged].tolist(),
            strict=True,
        )
    }
    for rule in (UNSUPPORTED, UPGRADE):
        yield from roster.emit(ctx.file, rule, "tier", verdict == rule, per_row=params.__getitem__)


CONTRACTS_IDS = tuple(f.id for f in CONTRACTS.data_fields)
