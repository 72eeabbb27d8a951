"""`formula_in_data`: a data cell holds a formula, or text Excel would run as one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.submission import SheetData

RULE = "formula_in_data"
# A leading + or - is harmless when it starts a number ("-5%", "+1,200.5") or a phone
# number ("+86 138 0013 8000", "+86-10-12345678").
HARMLESS_SIGN = re.compile(r"^[+\-]\s*(?:[\d.,]+%?|\d[\d\s\-()]*)$")
LEADING = frozenset("=@+-")


def formula_like(raw: pd.Series) -> pd.Series:
    """True where a raw cell is text that Excel would treat as a formula."""
    # Each distinct value once (a str only ever equals a str, so mixed columns are safe);
    # a cheap first pass, then the regex only sees the rare candidates.
    codes, distinct = pd.factorize(raw.to_numpy(dtype=object))
    hits = np.zeros(len(distinct) + 1, dtype=bool)  # the last slot: blanks (code -1)
    for i, v in enumerate(distinct.tolist()):
        if type(v) is str and v[:1] in LEADING:
            hits[i] = v[0] in "=@" or not HARMLESS_SIGN.match(v)
    return pd.Series(hits[codes], index=raw.index)


def _mask(data: SheetData, field_id: str) -> pd.Series:
    mask = formula_like(data.raw[field_id])
    real = data.formulas.get(field_id)
    return mask if real is None else mask | real


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: True):
        mask = _mask(data, f.id)
        if mask.any():
            yield from data.emit(ctx.file, RULE, f.id, mask)
