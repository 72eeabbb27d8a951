"""`unknown_customer`: a well-formed customer code that is not in this workbook's roster."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import KEY_FORM

RULE = "unknown_customer"


def check(ctx: CheckContext) -> Iterator[Finding]:
    roster = ctx.submission.sheets.get(KEY_FORM.id)
    if roster is None or "uscc" not in roster.present:
        return  # missing_sheet / missing_column already say why nothing can be matched
    known = set(roster.frame["uscc"].dropna())
    for data, f in ctx.fields(lambda f: f.ref == KEY_FORM.id):
        _, checksum_ok = ctx.code_verdicts[data.form.id, f.id]
        values = data.frame[f.id]
        # A malformed code is reported by uscc_format/uscc_checksum, not here as well.
        checkable = ctx.valid(data, f.id) & checksum_ok
        yield from data.emit(ctx.file, RULE, f.id, checkable & ~values.isin(known))
