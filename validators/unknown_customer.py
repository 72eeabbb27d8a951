"""`unknown_customer`: a well-formed customer code that is not in this workbook's roster."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import KEY_FORM
from validators.uscc import code_masks

RULE = "unknown_customer"


def check(ctx: CheckContext) -> Iterator[Finding]:
    roster = ctx.submission.sheets.get(KEY_FORM.id)
    if roster is None or "uscc" not in roster.present:
        return  # missing_sheet / missing_column already say why nothing can be matched
    known = set(roster.frame["uscc"].dropna())
    fields = list(ctx.fields(lambda f: f.ref == KEY_FORM.id))
    masks = code_masks([data.frame[f.id] for data, f in fields])
    for (data, f), (_, checksum_ok) in zip(fields, masks, strict=True):
        values = data.frame[f.id]
        # A malformed code is reported by uscc_format/uscc_checksum, not here as well.
        checkable = ctx.valid(data, f.id) & checksum_ok
        yield from data.emit(ctx.file, RULE, f.id, checkable & ~values.isin(known))
