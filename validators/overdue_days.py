"""`overdue_days`: 逾期天数 must be > 0 when 付款状态 is 逾期, and empty or 0 otherwise."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import CONTRACTS

RULE = "overdue_days"
OVERDUE = "逾期"


def check(ctx: CheckContext) -> Iterator[Finding]:
    data = ctx.submission.sheets.get(CONTRACTS.id)
    if data is None or not {"pay_status", "overdue_days"} <= data.present:
        return
    status = data.frame["pay_status"]
    days = data.frame["overdue_days"].astype(float)
    unreadable = data.invalid.get("overdue_days")
    readable = ~unreadable if unreadable is not None else status.notna() | status.isna()
    header = CONTRACTS["overdue_days"].header
    missing = (status == OVERDUE) & (days.isna() | (days <= 0)) & readable
    yield from data.emit(
        ctx.file,
        RULE,
        "overdue_days",
        missing,
        {
            "detail": f"付款状态为“逾期”时，“{header}”应填写大于 0 的天数",
            "detail_en": f"'{header}' must be > 0 when the payment is overdue",
        },
    )
    extra = status.notna() & (status != OVERDUE) & (days > 0)
    yield from data.emit(
        ctx.file,
        RULE,
        "overdue_days",
        extra,
        per_row=lambda row: {
            "detail": f"付款状态为“{status.at[row]}”时，“{header}”应为空或 0",
            "detail_en": f"'{header}' must be empty or 0 when the payment is not overdue",
        },
    )
