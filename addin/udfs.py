"""Worksheet functions (DOMAIN §8): KA_TIER, KA_TIER_REASON, KA_TIERS, KA_USCC_OK.

Each function reads its arguments through addin.convert and calls the same engine as the
CLI (kam.tiers, kam.uscc). Range arguments are taken as 2-D lists (ndim=2) so that the
shape is checked here, with a Chinese message, rather than failing inside xlwings. A bad
argument returns a short Chinese message to the cell; nothing raises. KA_TIERS returns a
list of one-cell rows, which dynamic-array Excel spills down as a column.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import xlwings as xw

from addin import convert
from addin.convert import ArgumentError
from kam.rules import TierRules, user_rules
from kam.tiers import compute_tiers, tier_one
from kam.uscc import uscc_ok

T = TypeVar("T")

CATEGORY = "大客户管理"  # the function wizard's category
_AMOUNTS = "合同金额（万元）所在区域，单行或单列"
_DATES = "签订日期所在区域，与金额一一对应"
_STRATEGIC = "是否签订战略合作协议：是/否，空白视为否"
_AS_OF = "评估日期或季度（如 2026Q3），省略为今天"


@functools.cache
def _rules() -> TierRules:
    # The user's rules file (or the shipped defaults), loaded once per Excel session.
    return user_rules().tier


def _answer(job: Callable[[], T]) -> T | str:
    """The job's result, or the message a cell should show instead of a traceback."""
    try:
        return job()
    except ArgumentError as exc:
        return str(exc)
    except Exception as exc:  # a UDF must never raise into Excel
        return f"计算出错：{exc}"


def _one(amounts: Any, sign_dates: Any, strategic: Any, as_of: Any) -> tuple[str, str]:
    amount_cells = convert.cells(amounts, "金额")
    date_cells = convert.cells(sign_dates, "签订日期")
    convert.same_length("金额与日期", amount_cells, date_cells)
    values = convert.numbers(amount_cells, "金额")
    days = convert.dates(date_cells, "签订日期")
    is_strategic = convert.flag(convert.single(strategic, "战略合作协议"))
    return tier_one(
        [None if pd.isna(a) else float(a) for a in values],
        [None if pd.isna(d) else d.date() for d in days],
        is_strategic,
        convert.as_of_date(as_of),
        _rules(),
    )


@xw.func(category=CATEGORY)
@xw.arg("amounts", ndim=2, doc=_AMOUNTS)
@xw.arg("sign_dates", ndim=2, doc=_DATES)
@xw.arg("strategic", doc=_STRATEGIC)
@xw.arg("as_of", doc=_AS_OF)
def KA_TIER(amounts: Any, sign_dates: Any, strategic: Any, as_of: Any = None) -> Any:
    """按合同金额、签订日期和战略合作协议计算一个客户的大客户等级（集团级/分公司级/项目级/未达标）。"""
    return _answer(lambda: _one(amounts, sign_dates, strategic, as_of)[0])


@xw.func(category=CATEGORY)
@xw.arg("amounts", ndim=2, doc=_AMOUNTS)
@xw.arg("sign_dates", ndim=2, doc=_DATES)
@xw.arg("strategic", doc=_STRATEGIC)
@xw.arg("as_of", doc=_AS_OF)
def KA_TIER_REASON(amounts: Any, sign_dates: Any, strategic: Any, as_of: Any = None) -> Any:
    """返回 KA_TIER 所算等级的依据：一句话，列出决定等级的合同（金额与签订日期）。"""
    return _answer(lambda: _one(amounts, sign_dates, strategic, as_of)[1])


def _many(
    keys: Any, contract_keys: Any, amounts: Any, sign_dates: Any, strategic: Any, as_of: Any
) -> list[list[str]]:
    key_cells = convert.cells(keys, "客户代码")
    if not key_cells:
        raise ArgumentError("参数错误：客户代码区域为空")
    contract_cells = convert.cells(contract_keys, "合同客户代码")
    amount_cells = convert.cells(amounts, "金额")
    date_cells = convert.cells(sign_dates, "签订日期")
    convert.same_length("合同客户代码、金额与日期", contract_cells, amount_cells, date_cells)
    customer_keys = convert.codes(key_cells)
    customers = pd.DataFrame(
        {
            "uscc": customer_keys,
            "strategic": [
                convert.YES if f else convert.NO
                for f in convert.flags(convert.cells(strategic, "战略合作协议"), len(key_cells))
            ],
        }
    )
    contracts = pd.DataFrame(
        {
            "uscc": convert.codes(contract_cells),
            "amount": convert.numbers(amount_cells, "金额").to_numpy(),
            "signed_on": convert.dates(date_cells, "签订日期").to_numpy(),
        }
    )
    tiers = compute_tiers(customers, contracts, convert.as_of_date(as_of), _rules())
    # A blank key (e.g. trailing empty rows of the range) gives a blank cell.
    blank = customer_keys.isna().to_numpy()
    return [[""] if b else [t] for b, t in zip(blank, tiers["computed"], strict=True)]


@xw.func(category=CATEGORY)
@xw.arg("keys", ndim=2, doc="名录的统一社会信用代码列（每个客户一行）")
@xw.arg("contract_keys", ndim=2, doc="合同台账的统一社会信用代码列")
@xw.arg("amounts", ndim=2, doc="合同台账的金额列（万元），与合同代码一一对应")
@xw.arg("sign_dates", ndim=2, doc="合同台账的签订日期列，与合同代码一一对应")
@xw.arg("strategic", ndim=2, doc="名录的战略合作协议列（是/否），与客户代码一一对应")
@xw.arg("as_of", doc=_AS_OF)
def KA_TIERS(
    keys: Any,
    contract_keys: Any,
    amounts: Any,
    sign_dates: Any,
    strategic: Any,
    as_of: Any = None,
) -> Any:
    """一次算出整张名录的大客户等级，按客户代码顺序溢出为一列，万行名录只需一个公式。"""
    return _answer(lambda: _many(keys, contract_keys, amounts, sign_dates, strategic, as_of))


def _uscc(code: Any) -> bool:
    value = convert.single(code, "统一社会信用代码")
    if not isinstance(value, str):
        return False  # blank, or a number that has lost its last digits
    tidy = convert.codes([value]).iloc[0]
    return tidy is not None and uscc_ok(tidy)


@xw.func(category=CATEGORY)
@xw.arg("code", doc="统一社会信用代码（18 位）")
def KA_USCC_OK(code: Any) -> Any:
    """统一社会信用代码格式与校验位均正确时返回 TRUE，否则返回 FALSE（GB 32100-2015）。"""
    return _answer(lambda: _uscc(code))


__all__ = ["KA_TIER", "KA_TIERS", "KA_TIER_REASON", "KA_USCC_OK"]
