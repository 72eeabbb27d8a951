"""Worksheet-function arguments (Excel shapes) to plain Python values, or a Chinese message.

Excel hands a UDF a scalar for one cell and lists of rows for a range; blanks are None,
dates arrive as datetime or as serial numbers, text may be full-width. Everything here
turns those into flat lists of floats, dates and codes, reusing kam.normalize so a cell
reads the same in a function as in validation. Any value that cannot be read raises
ArgumentError, whose text is what the cell shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from kam.errors import KamError, UsageError
from kam.forms import YES_NO, Kind
from kam.normalize import normalize, to_halfwidth
from kam.tiers import quarter_end

YES, NO = YES_NO.values


class ArgumentError(KamError, ValueError):
    """A worksheet-function argument that cannot be used; the message is shown in the cell."""


def cells(value: object, what: str) -> list[object]:
    """A scalar, a 1-D list or a one-row / one-column 2-D list as a flat list of cells."""
    if not isinstance(value, list | tuple):
        return [value]
    if not value or not isinstance(value[0], list | tuple):
        return list(value)
    if len(value) == 1:
        return list(value[0])
    if all(len(r) == 1 for r in value):
        return [r[0] for r in value]
    raise ArgumentError(f"参数错误：{what}应为单行或单列区域")


def single(value: object, what: str) -> object:
    """One cell's value (a 1-cell range is unwrapped)."""
    flat = cells(value, what)
    if len(flat) != 1:
        raise ArgumentError(f"参数错误：{what}应为单个单元格")
    return flat[0]


def _position(values: list[object], mask: pd.Series, what: str, kind: str) -> ArgumentError:
    i = int(mask.to_numpy().argmax())
    where = f"第 {i + 1} 个" if len(values) > 1 else ""
    return ArgumentError(f"参数错误：{what}{where}值“{values[i]}”{kind}")


def numbers(values: list[object], what: str) -> pd.Series:
    """Amounts (float, NaN for blank): numbers, numeric text ('12,000', full-width)."""
    col = normalize(Kind.NUMBER, pd.Series(values, dtype=object))
    if col.invalid.any():
        raise _position(values, col.invalid, what, "不是数字")
    return col.values.astype(float)


def dates(values: list[object], what: str) -> pd.Series:
    """Dates (NaT for blank) from datetime, serial numbers or text (2024/3/1, 2024年3月1日)."""
    col = normalize(Kind.DATE, pd.Series(values, dtype=object))
    if col.invalid.any():
        raise _position(values, col.invalid, what, "无法识别为日期")
    return col.values


def codes(values: list[object]) -> pd.Series:
    """USCC keys tidied as the reader does (spaces, full-width, case); blank -> None."""
    # Codes repeat down a ledger: tidy each distinct value once.
    rows, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    tidy = normalize(Kind.USCC, pd.Series(uniques, dtype=object)).values
    texts = [v if isinstance(v, str) else None for v in tidy]
    # Blank cells have code -1, which picks the None appended at the end.
    return pd.Series([*texts, None], dtype=object).iloc[rows].reset_index(drop=True)


def flag(value: object, what: str = "战略合作协议") -> bool:
    """是 / 否 (or TRUE / FALSE); blank means 否."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = to_halfwidth(str(value)).strip().upper()
    if text in ("", NO, "FALSE"):
        return False
    if text in (YES, "TRUE"):
        return True
    raise ArgumentError(f"参数错误：{what}应为“{YES}”或“{NO}”，不能是“{value}”")


def flags(values: list[object], n: int, what: str = "战略合作协议") -> list[bool]:
    """One flag per customer; a single value applies to all."""
    if len(values) == 1 and n != 1:
        return [flag(values[0], what)] * n
    if len(values) != n:
        raise ArgumentError(f"参数错误：{what}与客户代码个数不一致")
    return [flag(v, what) for v in values]


def as_of_date(value: object) -> dt.date:
    """The evaluation date: blank -> today; a date, a serial number, or a quarter '2026Q3'."""
    value = single(value, "评估日期")
    if value is None or (isinstance(value, str) and not value.strip()):
        return dt.date.today()
    if isinstance(value, str):
        try:
            return quarter_end(to_halfwidth(value).strip())
        except UsageError:
            pass  # not a quarter: read it as a date below
    return dates([value], "评估日期").iloc[0].date()


def same_length(what: str, *columns: Sequence[object]) -> None:
    """Columns that must pair up row by row."""
    if len({len(c) for c in columns}) > 1:
        raise ArgumentError(f"参数错误：{what}个数不一致")
