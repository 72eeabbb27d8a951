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
        formula = data.formulas.get(f.id)
        if formula is not None:  # formula_in_data already names this cell
            empty &= ~formula
        because = {}
        if f.required_when is not None:
            other, value = f.required_when
            empty &= data.frame[other] == value
            because = _because(data.form[other].header, value)
        yield from data.emit(ctx.file, RULE, f.id, empty, because)


def _because(header: str, value: object) -> dict[str, str]:
    """Why a conditionally required cell is required (said in the message)."""
    return {
        "because": f"（因为{header}为“{value}”）",
        "because_en": f" (because '{header}' is '{value}')",
    }
