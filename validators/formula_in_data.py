"""`formula_in_data`: a data cell holds a formula, or text Excel would run as one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.normalize import to_halfwidth
from kam.submission import SheetData
from validators.distinct import per_distinct

RULE = "formula_in_data"
# A leading + or - is harmless when it starts a number ("-5%", "+1,200.5") or a phone
# number ("+86 138 0013 8000", "+86-10-12345678").
HARMLESS_SIGN = re.compile(r"^[+\-]\s*(?:[\d.,]+%?|\d[\d\s\-()]*)$")
# Full-width forms too: Excel in a CJK locale takes ＝ as =.
LEADING = frozenset("=@+-＝＠＋－")
_SEP = "\x00"
_CANDIDATE = re.compile("\x00[=@+\\-＝＠＋－]")  # a literal first: re searches it fast
# What pandas infers for a column without a single str in it.
NO_TEXT = frozenset(
    {"empty", "floating", "integer", "mixed-integer-float", "decimal", "boolean", "datetime",
     "datetime64", "date", "time", "timedelta", "timedelta64", "period", "interval"}
)  # fmt: skip


def formula_like(raw: pd.Series) -> pd.Series:
    """True where a raw cell is text that Excel would treat as a formula."""
    if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) in NO_TEXT:
        # Dates and amounts hold no text at all: one C pass says so (no value is tested).
        return pd.Series(False, index=raw.index)
    return per_distinct(raw, _runs_as_formulas)


def _runs_as_formulas(distinct: pd.Series) -> pd.Series:
    """_runs_as_formula of each value; one regex pass finds the few that may be formulas."""
    values = distinct.to_numpy(dtype=object)
    out = np.zeros(len(values), dtype=bool)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # one C pass
        texts = values.tolist()
    else:
        texts = [v if type(v) is str else "" for v in values]
    # The joined text: a candidate starts right after a separator. A separator inside a
    # value can only add candidates, and each candidate is tested on its own below.
    joined = _SEP + _SEP.join(texts)
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts[:-1]), np.int64, len(texts) - 1) + 1, out=starts[1:])
    at = np.array([m.start() + 1 for m in _CANDIDATE.finditer(joined)], dtype=np.int64)
    for i in set(np.searchsorted(starts, at, side="right").tolist()) if len(at) else ():
        out[i - 1] = _runs_as_formula(values[i - 1])
    return pd.Series(out, index=distinct.index)


def _runs_as_formula(value: object) -> bool:
    # A cheap first test; the regex only sees the rare candidates.
    if type(value) is not str or value[:1] not in LEADING:
        return False
    value = to_halfwidth(value)
    return value[0] in "=@" or not HARMLESS_SIGN.match(value)


def _mask(data: SheetData, field_id: str) -> pd.Series:
    # The value as read and as normalized: a leading tab, space or control character is
    # trimmed by normalization, and what is left must not run either.
    raw, typed = data.raw[field_id], data.frame[field_id]
    mask = formula_like(raw)
    if isinstance(typed.dtype, pd.CategoricalDtype) and len(typed.cat.categories):
        # each category once
        cats = formula_like(pd.Series(typed.cat.categories, dtype=object)).to_numpy()
        codes = typed.cat.codes.to_numpy()
        mask = mask | pd.Series((codes >= 0) & cats[codes], index=mask.index)
    elif typed.dtype == object:  # only the few values normalization changed are judged again
        changed = raw.to_numpy(dtype=object) != typed.to_numpy(dtype=object)
        if changed.any():
            mask = mask | formula_like(typed[changed]).reindex(mask.index, fill_value=False)
    real = data.formulas.get(field_id)
    return mask if real is None else mask | real


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: True):
        mask = _mask(data, f.id)
        if mask.any():
            yield from data.emit(ctx.file, RULE, f.id, mask)
