"""`phone`: a phone cell that is not a mainland mobile, landline or service number."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import Kind
from kam.phone import phone_ok_mask
from validators.distinct import per_distinct

RULE = "phone"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.kind is Kind.PHONE):
        values = data.frame[f.id]
        present = ~data.missing(f.id)
        ok = per_distinct(values, phone_ok_mask, blank=True)
        yield from data.emit(ctx.file, RULE, f.id, present & ~ok)
