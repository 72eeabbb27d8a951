"""`duplicate_key`: a value that must be unique within its sheet appears again."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding

RULE = "duplicate_key"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.unique):
        values = data.frame[f.id]
        present = values[ctx.valid(data, f.id)]
        repeated = present.duplicated(keep="first")
        if not repeated.any():
            continue
        first_row = present.reset_index().drop_duplicates(f.id).set_index(f.id)["index"]
        mask = repeated.reindex(values.index, fill_value=False)
        yield from data.emit(
            ctx.file,
            RULE,
            f.id,
            mask,
            per_row=lambda row, first=first_row, v=values: {"first_row": int(first[v.at[row]])},
        )
