"""`amount_range`: a number below its column's minimum (e.g. a contract amount of 0)."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding

RULE = "amount_range"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.minimum is not None):
        assert f.minimum is not None
        values = data.frame[f.id].astype(float)
        low = values <= f.minimum if f.exclusive_minimum else values < f.minimum
        op = ">" if f.exclusive_minimum else "≥"
        bound = f"{f.minimum:g}"
        yield from data.emit(
            ctx.file,
            RULE,
            f.id,
            low,
            {"bound_text": f"{op} {bound}", "bound_text_en": f"{op} {bound}"},
        )
