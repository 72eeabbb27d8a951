"""`enum`: a value that is not one of its column's allowed choices."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding

RULE = "enum"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.choices is not None):
        assert f.choices is not None
        values = data.frame[f.id]
        bad = ~data.missing(f.id) & ~values.isin(f.choices.values)
        yield from data.emit(ctx.file, RULE, f.id, bad, {"choices": "/".join(f.choices.values)})
