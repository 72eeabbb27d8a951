"""`date_order`: a date before the date it must follow (e.g. 闭环日期 before 日期)."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.submission import display

RULE = "date_order"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.not_before is not None):
        assert f.not_before is not None
        other = data.form[f.not_before]
        early = data.frame[f.id] < data.frame[other.id]
        yield from data.emit(
            ctx.file,
            RULE,
            f.id,
            early,
            {"other": other.header},
            per_row=lambda row, o=other.id, d=data: {"other_value": display(d.frame.at[row, o])},
        )
