"""`prefill_changed`: a value HQ pre-filled from the register was edited (DOMAIN §9.3)."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.messages import Severity
from kam.prefill_record import KEY_FIELDS, row_key, shown

RULE = "prefill_changed"


def check(ctx: CheckContext) -> Iterator[Finding]:
    record = ctx.submission.prefill
    if not record:
        return
    for form_id in KEY_FIELDS:
        data = ctx.submission.sheets.get(form_id)
        if data is None:
            continue
        fields = [f for f in data.form.data_fields if f.id in data.present]
        typed = data.frame.to_dict(orient="records")
        raw = data.raw.to_dict(orient="records")
        for row, values, cells in zip(data.frame.index, typed, raw, strict=True):
            before = record.get(form_id, row_key(form_id, values))
            if before is None:  # a row the branch added: nothing to compare
                continue
            for f in fields:
                # A value the reader could not type is shown as the branch wrote it.
                old, new = before.get(f.id), shown(values[f.id]) or shown(cells[f.id])
                if old is not None and old != new:
                    r, cell = data.locate(f.id, int(row))
                    params = {"value": new, "before": old}
                    yield Finding(
                        RULE, ctx.file, data.sheet, r, f.header, cell, params, Severity.INFO
                    )
