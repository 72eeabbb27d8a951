"""`branch_mismatch`: 责任单位 differs from 报送单位 for a customer below 集团级."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import ROSTER, TIER

RULE = "branch_mismatch"
GROUP_TIER = TIER.values[0]  # 集团级 customers may be owned by another unit


def check(ctx: CheckContext) -> Iterator[Finding]:
    data = ctx.submission.sheets.get(ROSTER.id)
    unit = ctx.submission.unit
    if data is None or unit is None or "unit" not in data.present:
        return
    owner = data.frame["unit"]
    bad = owner.notna() & (owner != unit) & (data.frame["tier"] != GROUP_TIER)
    yield from data.emit(ctx.file, RULE, "unit", bad, {"unit": unit})
