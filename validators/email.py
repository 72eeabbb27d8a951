"""`email`: a contact e-mail address that is not well formed."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import Kind
from validators.distinct import per_distinct

RULE = "email"
EMAIL_RE = (
    r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"
)


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.kind is Kind.EMAIL):
        values = data.frame[f.id]
        present = values.notna()
        ok = per_distinct(values, lambda v: v.astype(str).str.match(EMAIL_RE), blank=True)
        bad = present & ~ok
        yield from data.emit(ctx.file, RULE, f.id, bad)
