"""Vectorized cell normalization: raw cell values in, typed values plus what was fixed out.

Each column is classified by cell type in one pass; strings are then cleaned once per
distinct value (pd.factorize: a column repeats its codes, names and enum words) and spread
back with numpy, numbers and dates with pandas/numpy operations over whole columns. Only
changed or invalid cells (few in real files) are visited again, to say why.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam.forms import Kind

FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
"""Full-width ASCII (Ａ１，…) and the ideographic space map to their half-width forms."""

CONTROL = {i: None for i in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_TABLE = str.maketrans(CONTROL)
CODE_TABLE = str.maketrans(CONTROL | FULLWIDTH)

DATE_RE = (
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
COMPACT_DATE_RE = r"^(?P<year>(?:19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})$"
QUARTER_RE = r"^(\d{4})\s*(?:年)?\s*(?:第)?\s*-?\s*Q?\s*([1-4一二三四])\s*(?:季度|季)?$"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31

WHY = {
    "strip": ("去除首尾空格", "trimmed spaces"),
    "control": ("去除控制字符", "removed control characters"),
    "width": ("全角转半角", "full-width to half-width"),
    "upper": ("小写转大写", "upper-cased"),
    "inner_space": ("去除中间空格", "removed inner spaces"),
    "text_number": ("文本转数字", "text to number"),
    "text_date": ("文本转日期", "text to date"),
    "serial_date": ("数字序列转日期", "serial number to date"),
    "quarter": ("统一季度格式", "quarter format"),
}

# Cell type codes of one classification pass.
BLANK, STR, NUM, BOOL, DATE, OTHER = range(6)
_TYPE_CODE: dict[type, int] = {
    type(None): BLANK,
    str: STR,
    float: NUM,
    int: NUM,
    np.float64: NUM,
    np.int64: NUM,
    bool: BOOL,
    dt.datetime: DATE,
    dt.date: DATE,
    pd.Timestamp: DATE,
}


@dataclass
class Column:
    """A normalized column: typed values, cells that could not be typed, and fixed cells."""

    values: pd.Series
    invalid: pd.Series  # bool
    fixed: pd.Series  # bool: the value was changed to make it readable
    why: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row -> reason codes
    blank: np.ndarray | None = None  # values.isna(), when it came cheaper than isna()

    def blanks(self) -> np.ndarray:
        """Where the typed value is missing (blank or unreadable cells)."""
        if self.blank is None:
            self.blank = self.values.isna().to_numpy()
        return self.blank

    def reasons(self, row: int, lang: str = "zh") -> str:
        i = 1 if lang == "en" else 0
        return "、".join(WHY[k][i] for k in self.why.get(row, ()))


def classify(values: np.ndarray) -> np.ndarray:
    """One type code per cell (BLANK for None/NaN and for strings of only spaces)."""
    # A column of text only (the common case) is recognised in one C pass.
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return np.full(len(values), STR, dtype=np.int8)
    try:  # map() of C callables: no Python frame per cell on the common path
        codes = np.fromiter(
            map(_TYPE_CODE.__getitem__, map(type, values)), dtype=np.int8, count=len(values)
        )
    except KeyError:  # a rare cell type (timedelta, error object): the slower, total path
        codes = np.fromiter(
            (_TYPE_CODE.get(type(v), OTHER) for v in values), dtype=np.int8, count=len(values)
        )
    nums = codes == NUM
    if nums.any():
        nan = pd.isna(values[nums].astype(float))
        codes[np.flatnonzero(nums)[nan]] = BLANK
    return codes


def blank_mask(s: pd.Series) -> pd.Series:
    """True where a cell is empty: None, NaN, or a string of only spaces."""
    values = s.to_numpy(dtype=object)
    codes = classify(values)
    blank = codes == BLANK
    strs = np.flatnonzero(codes == STR)
    if len(strs):
        blank[strs] = [not v.strip() for v in values[strs]]
    return pd.Series(blank, index=s.index)


def _display(v: object) -> object:
    """A non-string cell shown as the text Excel displays (for text columns)."""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return f"{v:.0f}" if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _why_text(original: str, cleaned: str, kind: Kind) -> tuple[str, ...]:
    """Why a string changed, judged on that one string (only changed cells get here)."""
    reasons = []
    if CONTROL_RE.search(original):
        reasons.append("control")
    if kind is not Kind.TEXT and original.translate(FULLWIDTH) != original:
        reasons.append("width")
    if original.strip() != original:
        reasons.append("strip")
    if kind is Kind.USCC:
        squeezed = re.sub(r"[\s\-]", "", original.translate(CODE_TABLE).strip())
        if squeezed != original.translate(CODE_TABLE).strip():
            reasons.append("inner_space")
        if squeezed.upper() != squeezed:
            reasons.append("upper")
    if kind is Kind.QUARTER and cleaned != original.translate(CODE_TABLE).strip().upper():
        reasons.append("quarter")
    return tuple(reasons) or ("strip",)


def _text(values: np.ndarray, codes: np.ndarray, kind: Kind) -> tuple[np.ndarray, np.ndarray]:
    """Cleaned text of every cell (None for blanks) and which strings were changed."""
    out = np.full(len(values), None, dtype=object)
    strs = np.flatnonzero(codes == STR)
    changed = np.zeros(len(values), dtype=bool)
    if len(strs):
        at, original = pd.factorize(values[strs])
        distinct, was_changed = _clean(np.asarray(original, dtype=object), kind)
        changed[strs] = was_changed[at]
        out[strs] = distinct[at]
    others = np.flatnonzero((codes != STR) & (codes != BLANK))
    if len(others):
        out[others] = [_display(v) for v in values[others]]
    return out, changed


def _clean(original: np.ndarray, kind: Kind) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct string cleaned (None where nothing is left) and whether it changed."""
    table = TEXT_TABLE if kind is Kind.TEXT else CODE_TABLE
    # Most cells are already clean; translate (a dict lookup per character) only the rest.
    if kind is Kind.TEXT:
        cleaned = [v.strip() if v.isprintable() else v.translate(table).strip() for v in original]
    else:
        cleaned = [
            v.strip() if v.isascii() and v.isprintable() else v.translate(table).strip()
            for v in original
        ]
    if kind is Kind.USCC:  # spaces and dashes out, upper case (inline: many distinct codes)
        cleaned = [v.replace(" ", "").replace("-", "").upper() if v else v for v in cleaned]
    distinct = np.array(cleaned, dtype=object)
    empty = distinct == ""
    distinct[empty] = None
    # A cell of only spaces is simply empty, not a fixed value.
    return distinct, (distinct != original) & ~empty


def normalize(kind: Kind, s: pd.Series) -> Column:
    """Normalize one raw column according to its kind."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        # A column read from a file keeps its distinct values: a cell's result depends on
        # its value alone, so normalize each distinct value once and spread by code.
        codes, categories = _used(s.cat.codes.to_numpy(), s.cat.categories.to_numpy(object))
        distinct = pd.Series(categories, dtype=object)
        return _spread(normalize(kind, distinct), codes, s.index)
    values = s.to_numpy(dtype=object)
    codes = classify(values)
    if kind in (Kind.NUMBER, Kind.INTEGER):
        return _numbers(s.index, values, codes, integer=kind is Kind.INTEGER)
    if kind is Kind.DATE:
        return _dates(s.index, values, codes)
    text, changed = _text(values, codes, kind)
    invalid = np.zeros(len(values), dtype=bool)
    if kind is Kind.USCC:
        # An 18-digit code typed as a number has lost its last digits to floating point.
        nums = np.flatnonzero(codes == NUM)
        invalid[nums] = [abs(float(v)) >= 1e15 for v in values[nums]]
    elif kind is Kind.QUARTER:
        text, invalid, changed = _quarter(text, changed)
    col = Column(
        pd.Series(text, index=s.index, dtype=object),
        pd.Series(invalid, index=s.index),
        pd.Series(changed & ~invalid, index=s.index),
    )
    for i in np.flatnonzero(col.fixed.to_numpy()):
        col.why[int(s.index[i])] = _why_text(str(values[i]), str(text[i]), kind)
    return col


def _used(codes: np.ndarray, categories: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and categories without the categories no cell uses.

    A column under its header keeps the header's text as a category: in a date column that
    one string would send the distinct values through the costly text-date path.
    """
    used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
    if used.all():
        return codes, categories
    renumber = np.append(np.cumsum(used) - 1, -1)  # code -1 (a missing cell) stays -1
    return renumber[codes], categories[used]


def _spread(distinct: Column, codes: np.ndarray, index: pd.Index) -> Column:
    """The Column of the cells whose values are `codes` into the normalized distinct values."""
    col = Column(
        _take(distinct.values, codes, index),
        *(_take(m, codes, index) for m in (distinct.invalid, distinct.fixed)),
    )
    if distinct.why:
        rows = np.flatnonzero(col.fixed.to_numpy())
        col.why = {int(index[i]): distinct.why[int(codes[i])] for i in rows}
    # isna() of an object column tests every cell; the distinct values say it by code.
    col.blank = np.append(distinct.blanks(), True)[codes]  # code -1: a missing cell
    return col


def _take(s: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """s's values at codes; code -1 (a missing cell) gets the blank of s's type."""
    values = s.to_numpy()
    blank = _BLANKS.get(values.dtype.kind)
    out = np.append(values, np.array([blank], dtype=values.dtype))[codes]
    return pd.Series(out, index=index, dtype=s.dtype)


_BLANKS: dict[str, object] = {"M": np.datetime64("NaT"), "f": np.nan, "b": False}  # else None


def _quarter(text: np.ndarray, changed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = pd.Series(text, dtype=object)
    present = s.notna()
    strs = s[present].astype(str).str.upper()
    parts = strs.str.extract(QUARTER_RE)
    digits = parts[1].replace({"一": "1", "二": "2", "三": "3", "四": "4"})
    good = parts[0].notna()
    canon = (parts[0] + "Q" + digits).where(good, strs)
    out = text.copy()
    out[present.to_numpy()] = canon.to_numpy(dtype=object)
    invalid = np.zeros(len(text), dtype=bool)
    invalid[present.to_numpy()] = ~good.to_numpy(dtype=bool)
    changed = changed | (present.to_numpy() & (out != text))
    return out, invalid, changed


def _numbers(index: pd.Index, values: np.ndarray, codes: np.ndarray, *, integer: bool) -> Column:
    out = np.full(len(values), np.nan)
    nums = codes == NUM
    out[nums] = values[nums].astype(float)
    fixed = np.zeros(len(values), dtype=bool)
    strs = np.flatnonzero(codes == STR)
    blank = codes == BLANK
    if len(strs):
        at, distinct = pd.factorize(values[strs])
        cleaned = pd.Series([v.translate(CODE_TABLE).strip() for v in distinct], dtype=object)
        blank[strs] = (cleaned == "").to_numpy()[at]
        numeric = cleaned.str.replace(r"[,，\s]", "", regex=True).str.replace(
            r"(万元|万)$", "", regex=True
        )
        parsed = pd.to_numeric(numeric, errors="coerce").to_numpy(dtype=float)[at]
        out[strs] = parsed
        fixed[strs] = ~np.isnan(parsed)
    invalid = ~blank & np.isnan(out)
    if integer:
        frac = ~np.isnan(out) & (out != np.floor(np.nan_to_num(out)))
        invalid |= frac
        out[frac] = np.nan
    col = Column(
        pd.Series(out, index=index),
        pd.Series(invalid, index=index),
        pd.Series(fixed & ~invalid, index=index),
    )
    col.why = {int(index[i]): ("text_number",) for i in np.flatnonzero(col.fixed.to_numpy())}
    return col


def _dates(index: pd.Index, values: np.ndarray, codes: np.ndarray) -> Column:
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    why: dict[int, tuple[str, ...]] = {}
    blank = codes == BLANK
    real = np.flatnonzero(codes == DATE)
    if len(real):
        at, distinct = pd.factorize(values[real])  # dates repeat: convert each once
        days = pd.to_datetime(distinct).normalize().to_numpy(dtype="datetime64[ns]")
        out[real] = days[at]
    nums = np.flatnonzero(codes == NUM)
    if len(nums):
        serial = values[nums].astype(float)
        ok = (serial >= 1) & (serial <= MAX_EXCEL_SERIAL)
        days = pd.to_timedelta(np.floor(np.where(ok, serial, np.nan)), unit="D")
        out[nums] = (EXCEL_EPOCH + days).to_numpy(dtype="datetime64[ns]")
        why.update({int(index[i]): ("serial_date",) for i in nums[ok]})
    strs = np.flatnonzero(codes == STR)
    if len(strs):
        at, distinct = pd.factorize(values[strs])
        text = pd.Series([v.translate(CODE_TABLE).strip() for v in distinct], dtype=object)
        blank[strs] = (text == "").to_numpy()[at]
        parts = text.str.extract(DATE_RE).fillna(text.str.extract(COMPACT_DATE_RE))
        parsed = pd.to_datetime(
            {k: pd.to_numeric(parts[k], errors="coerce") for k in ("year", "month", "day")},
            errors="coerce",
        ).to_numpy(dtype="datetime64[ns]")[at]
        out[strs] = parsed
        why.update({int(index[i]): ("text_date",) for i in strs[~np.isnat(parsed)]})
    invalid = ~blank & np.isnat(out)
    fixed = pd.Series(False, index=index)
    fixed.loc[list(why)] = True
    fixed &= ~pd.Series(invalid, index=index)
    return Column(pd.Series(out, index=index), pd.Series(invalid, index=index), fixed, why)


def to_halfwidth(text: str) -> str:
    """One string with full-width ASCII turned half-width (for single values at the edge)."""
    return text.translate(FULLWIDTH)
