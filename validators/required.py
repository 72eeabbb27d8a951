"""`required`: a required cell (or one made required by another cell) is empty."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding

RULE = "required"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.required or f.required_when is not None):
        empty = data.missing(f.id)
        bad = data.invalid.get(f.id)
        if bad is not None:
            empty &= ~bad
        if f.required_when is not None:
            other, value = f.required_when
            empty &= data.frame[other] == value
        yield from data.emit(ctx.file, RULE, f.id, empty)
