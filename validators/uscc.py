"""`uscc_format` / `uscc_checksum`: 统一社会信用代码 per GB 32100-2015 (positions and check)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import Kind
from kam.uscc import uscc_check_char, uscc_checksum_mask, uscc_format_mask, uscc_problem

FORMAT, CHECKSUM = "uscc_format", "uscc_checksum"


def code_masks(columns: list[pd.Series]) -> list[tuple[pd.Series, pd.Series]]:
    """(well formed, check character right) of each code column; blanks are neither.

    The sheets of one workbook repeat the same codes: each distinct code is checked once.
    """
    if not columns:
        return []
    values = [c.to_numpy(dtype=object) for c in columns]
    codes, distinct = pd.factorize(np.concatenate(values))
    fmt = np.zeros(len(distinct) + 1, dtype=bool)  # the last slot: blanks (code -1)
    ok = np.zeros(len(distinct) + 1, dtype=bool)
    if len(distinct):
        unique = pd.Series(distinct, dtype=object)
        fmt[:-1] = uscc_format_mask(unique).to_numpy(dtype=bool)
        ok[:-1] = uscc_checksum_mask(unique).to_numpy(dtype=bool)
    parts = np.split(codes, np.cumsum([len(v) for v in values])[:-1])
    return [
        (pd.Series(fmt[part], index=c.index), pd.Series(ok[part], index=c.index))
        for c, part in zip(columns, parts, strict=True)
    ]


def check(ctx: CheckContext) -> Iterator[Finding]:
    fields = list(ctx.fields(lambda f: f.kind is Kind.USCC))
    masks = code_masks([data.frame[f.id] for data, f in fields])
    for (data, f), (well_formed, checksum_ok) in zip(fields, masks, strict=True):
        values = data.frame[f.id]
        present = ctx.valid(data, f.id)
        bad_format = present & ~well_formed
        bad_sum = well_formed & ~checksum_ok
        yield from data.emit(
            ctx.file,
            FORMAT,
            f.id,
            bad_format,
            per_row=lambda row, v=values: _reason(str(v.at[row])),
        )
        yield from data.emit(
            ctx.file,
            CHECKSUM,
            f.id,
            bad_sum,
            per_row=lambda row, v=values: {"expected": uscc_check_char(str(v.at[row])[:17])},
        )


def _reason(code: str) -> dict[str, str]:
    zh, en = uscc_problem(code) or ("", "")
    return {"reason": zh, "reason_en": en}
