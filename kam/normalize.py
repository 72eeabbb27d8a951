"""Vectorized cell normalization: raw cell values in, typed values plus what was fixed out.

Each function takes one column as an object Series (index = sheet row numbers) and works
over the whole column with pandas string and datetime operations, never a row loop over
all values. Only changed or invalid cells (few in real files) are visited one by one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kam.forms import Kind

FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
"""Full-width ASCII (Ａ１，…) and the ideographic space map to their half-width forms."""

CONTROL_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
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


@dataclass
class Column:
    """A normalized column: typed values, cells that could not be typed, and fix reasons."""

    values: pd.Series
    invalid: pd.Series  # bool
    fixes: dict[str, pd.Series]  # reason code -> bool mask of cells fixed that way

    def fixed_mask(self) -> pd.Series:
        mask = pd.Series(False, index=self.values.index)
        for m in self.fixes.values():
            mask |= m
        return mask

    def reasons(self, row: int, lang: str = "zh") -> str:
        i = 1 if lang == "en" else 0
        return "、".join(WHY[k][i] for k, m in self.fixes.items() if bool(m.get(row, False)))


def _types(s: pd.Series) -> pd.Series:
    return s.map(type, na_action=None)


def blank_mask(s: pd.Series) -> pd.Series:
    """True where a cell is empty: None, NaN, or a string of only spaces."""
    if s.empty:
        return pd.Series(False, index=s.index, dtype=bool)
    is_str = _types(s).eq(str)
    blank = s.isna().to_numpy(copy=True)
    if is_str.any():
        strs = s[is_str].astype(str)
        blank[is_str.to_numpy()] = (strs.str.strip().str.len() == 0).to_numpy()
    return pd.Series(blank, index=s.index)


def _number_to_text(v: object) -> object:
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


def _clean_text(s: pd.Series, *, width: bool) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Strings stripped and cleaned; non-strings turned into their displayed text."""
    types = _types(s)
    is_str = types.eq(str)
    out = s.astype(object).copy()
    fixes: dict[str, pd.Series] = {}
    other = ~is_str & s.notna()
    if other.any():
        out[other] = [_number_to_text(v) for v in s[other]]
    if not is_str.any():
        return out, fixes
    strs = s[is_str].astype(str)
    cleaned = strs.str.replace(CONTROL_RE, "", regex=True)
    fixes["control"] = _on(cleaned != strs, s.index)
    if width:
        wide = cleaned.str.translate(FULLWIDTH)
        fixes["width"] = _on(wide != cleaned, s.index)
        cleaned = wide
    stripped = cleaned.str.strip()
    fixes["strip"] = _on(stripped != cleaned, s.index) & _on(stripped.str.len() > 0, s.index)
    out[is_str] = stripped.where(stripped.str.len() > 0, None)
    return out, fixes


def _on(mask: pd.Series, index: pd.Index) -> pd.Series:
    """A partial boolean mask spread over the full index (False elsewhere)."""
    return mask.reindex(index, fill_value=False).astype(bool)


def normalize(kind: Kind, s: pd.Series) -> Column:
    """Normalize one raw column according to its kind."""
    s = s.astype(object)
    if kind in (Kind.NUMBER, Kind.INTEGER):
        return _numbers(s, integer=kind is Kind.INTEGER)
    if kind is Kind.DATE:
        return _dates(s)
    text, fixes = _clean_text(s, width=kind is not Kind.TEXT)
    invalid = pd.Series(False, index=s.index)
    if kind is Kind.USCC:
        text, invalid = _uscc(s, text, fixes)
    elif kind is Kind.QUARTER:
        text, invalid = _quarter(text, fixes)
    return Column(text, invalid, {k: v for k, v in fixes.items() if v.any()})


def _uscc(
    raw: pd.Series, text: pd.Series, fixes: dict[str, pd.Series]
) -> tuple[pd.Series, pd.Series]:
    present = text.notna()
    strs = text[present].astype(str)
    squeezed = strs.str.replace(r"[\s\-]", "", regex=True)
    fixes["inner_space"] = _on(squeezed != strs, text.index)
    upper = squeezed.str.upper()
    fixes["upper"] = _on(upper != squeezed, text.index)
    out = text.copy()
    out[present] = upper
    # An 18-digit code typed as a number has lost its last digits to floating point.
    is_num = _types(raw).isin([float, int])
    invalid = is_num & raw.where(is_num, 0).astype(float).abs().ge(1e15)
    return out, invalid


def _quarter(text: pd.Series, fixes: dict[str, pd.Series]) -> tuple[pd.Series, pd.Series]:
    present = text.notna()
    strs = text[present].astype(str).str.upper()
    parts = strs.str.extract(QUARTER_RE)
    digits = parts[1].replace({"一": "1", "二": "2", "三": "3", "四": "4"})
    good = parts[0].notna()
    canon = (parts[0] + "Q" + digits).where(good)
    out = text.copy()
    out[present] = canon.where(good, strs)
    fixes["quarter"] = _on(good & (canon != text[present]), text.index)
    invalid = _on(~good, text.index)
    return out, invalid


def _numbers(s: pd.Series, *, integer: bool) -> Column:
    types = _types(s)
    blank = blank_mask(s)
    is_num = types.isin([float, int, np.float64, np.int64])
    values = pd.Series(np.nan, index=s.index, dtype=float)
    values[is_num] = s[is_num].astype(float)
    is_str = (types.eq(str)) & ~blank
    fixes: dict[str, pd.Series] = {}
    if is_str.any():
        strs = s[is_str].astype(str)
        cleaned = (
            strs.str.translate(FULLWIDTH)
            .str.replace(r"[,，\s]", "", regex=True)
            .str.replace(r"(万元|万)$", "", regex=True)
        )
        parsed = pd.to_numeric(cleaned, errors="coerce")
        values[is_str] = parsed
        fixes["text_number"] = _on(parsed.notna(), s.index)
    invalid = ~blank & values.isna()
    if integer:
        frac = values.notna() & (values != np.floor(values.fillna(0)))
        invalid |= frac
        values[frac] = np.nan
    return Column(values, invalid, {k: v for k, v in fixes.items() if v.any()})


def _dates(s: pd.Series) -> Column:
    types = _types(s)
    blank = blank_mask(s)
    values = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    fixes: dict[str, pd.Series] = {}
    is_dt = types.isin([dt.date, dt.datetime, pd.Timestamp])
    if is_dt.any():
        values[is_dt] = pd.to_datetime(s[is_dt].map(_as_datetime)).dt.normalize()
    is_num = types.isin([float, int]) & ~blank
    if is_num.any():
        nums = s[is_num].astype(float)
        ok = (nums >= 1) & (nums <= MAX_EXCEL_SERIAL)
        days = pd.to_timedelta(np.floor(nums.where(ok)), unit="D")
        values[is_num] = EXCEL_EPOCH + days
        fixes["serial_date"] = _on(ok, s.index)
    is_str = (types.eq(str)) & ~blank
    if is_str.any():
        strs = s[is_str].astype(str).str.translate(FULLWIDTH).str.strip()
        parts = strs.str.extract(DATE_RE)
        compact = strs.str.extract(COMPACT_DATE_RE)
        parts = parts.fillna(compact)
        parsed = pd.to_datetime(
            {
                "year": pd.to_numeric(parts["year"], errors="coerce"),
                "month": pd.to_numeric(parts["month"], errors="coerce"),
                "day": pd.to_numeric(parts["day"], errors="coerce"),
            },
            errors="coerce",
        )
        values[is_str] = parsed
        fixes["text_date"] = _on(parsed.notna(), s.index)
    invalid = ~blank & values.isna()
    return Column(values, invalid, {k: v for k, v in fixes.items() if v.any()})


def _as_datetime(v: object) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    assert isinstance(v, dt.date)
    return dt.datetime(v.year, v.month, v.day)


def to_halfwidth(text: str) -> str:
    """One string with full-width ASCII turned half-width (for single values at the edge)."""
    return text.translate(FULLWIDTH)
