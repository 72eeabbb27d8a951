"""The tier engine (DOMAIN §3): computed tier and reason per customer, and the tier check.

One code path serves the CLI, the add-in buttons and the worksheet functions: contracts
are filtered to the window and grouped with numpy (kam.tier_schemes); only the reason text
is built per customer. `tier_one` runs the very same path for a single customer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from kam.errors import UsageError
from kam.forms import TIER, YES_NO
from kam.rules import TierRules
from kam.tier_schemes import WindowBook, evaluate, tier_labels

__all__ = [
    "check_tier",
    "check_tiers",
    "compute_tiers",
    "quarter_end",
    "tier_labels",
    "tier_one",
    "window_start",
]

STRATEGIC_REASON = "签订战略合作协议"
NO_KEY_REASON = "未填统一社会信用代码，无法匹配合同"
_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")
_YES = YES_NO.values[0]
T = TypeVar("T")


def _day(value: dt.date) -> dt.date:
    """A plain date (datetime and pandas Timestamp are date subclasses)."""
    return value.date() if isinstance(value, dt.datetime) else value


def window_start(as_of: dt.date, years: int) -> dt.date:
    """as_of minus `years` years, same month and day; 29 Feb becomes 28 Feb."""
    as_of = _day(as_of)
    year = as_of.year - years
    if as_of.month == 2 and as_of.day == 29:
        return dt.date(year, 2, 29 if _leap(year) else 28)
    return as_of.replace(year=year)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def quarter_end(quarter: str) -> dt.date:
    """The last day of a quarter written `YYYYQn`: '2026Q3' -> 2026-09-30."""
    m = _QUARTER_RE.match(quarter)
    if not m:
        raise UsageError(f"季度“{quarter}”格式不正确，应为如 2026Q3")
    year, q = int(m.group(1)), int(m.group(2))
    first_of_next = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def _window_book(
    key: np.ndarray,
    amount: np.ndarray,
    signed: np.ndarray,
    number: np.ndarray,
    n_keys: int,
    as_of: dt.date,
    rules: TierRules,
) -> WindowBook:
    """The contracts that count: known customer, amount > 0, signed inside the window.

    Non-positive amounts are invalid data (DOMAIN §2.3 requires > 0) and never count;
    blank amounts and dates are ignored here and reported by the validators.
    """
    years = rules.default.window_years  # one window for every scheme
    start = np.datetime64(window_start(as_of, years), "D")
    end = np.datetime64(_day(as_of), "D")
    keep = (key >= 0) & (amount > 0) & (signed >= start) & (signed <= end)
    return WindowBook.build(
        key[keep].astype(np.int64), amount[keep], signed[keep], number[keep], n_keys, years
    )


def _as_days(values: pd.Series) -> np.ndarray:
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, errors="coerce")
    return values.to_numpy().astype("datetime64[D]")


def _per_distinct(values: pd.Series, fn: Callable[[object], T]) -> tuple[np.ndarray, list[T]]:
    """fn applied once per distinct value: (code per row, -1 for missing; fn of each code)."""
    codes, uniques = pd.factorize(values.to_numpy(object), use_na_sentinel=True)
    return codes, [fn(u) for u in uniques]


def _key_text(v: object) -> str | None:
    """A customer code as stripped text; blank or non-text (a number lost digits) -> None."""
    return (v.strip() or None) if isinstance(v, str) else None


def _key_codes(
    customer_keys: pd.Series, contract_keys: pd.Series
) -> tuple[np.ndarray, int, np.ndarray]:
    """Dense customer-key codes for customers and contracts (-1 = no usable key)."""
    rows, texts = _per_distinct(customer_keys, _key_text)
    dense, keys = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=True)
    dense = np.append(dense, -1)  # index -1 (a missing value) stays missing
    customer_codes = dense[rows]
    c_rows, c_texts = _per_distinct(contract_keys, _key_text)
    lookup = pd.Index(keys, dtype=object).get_indexer(pd.Series(c_texts, dtype=object))
    contract_codes = np.append(lookup, -1)[c_rows]
    return customer_codes, len(keys), contract_codes


def compute_tiers(
    customers: pd.DataFrame, contracts: pd.DataFrame, as_of: dt.date, rules: TierRules
) -> pd.DataFrame:
    """Columns `computed` and `reason`, index aligned with `customers`.

    Customers sharing a code share its contracts (and, in the Pareto scheme, one rank).
    The strategic flag (战略合作协议 = 是) makes a customer 集团级 in the default scheme only.
    """
    codes, n_keys, key = _key_codes(customers["uscc"], _column(contracts, "uscc"))
    amount = pd.to_numeric(_column(contracts, "amount"), errors="coerce").to_numpy(
        float, na_value=np.nan
    )
    number = _numbers(contracts)
    book = _window_book(
        key, amount, _as_days(_column(contracts, "signed_on")), number, n_keys, as_of, rules
    )
    tiers, reasons = evaluate(book, rules)
    strategic = _strategic(customers)
    return _per_customer(codes, strategic, tiers, reasons, rules, customers.index)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or all blanks when the sheet lacks it (missing_column is reported elsewhere)."""
    if name in frame:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _numbers(contracts: pd.DataFrame) -> np.ndarray:
    """Contract numbers as given (text is made only for the few contracts a reason names)."""
    return _column(contracts, "contract_no").to_numpy(object)


def _strategic(customers: pd.DataFrame) -> np.ndarray:
    rows, yes = _per_distinct(_column(customers, "strategic"), _is_yes)
    return np.append(np.array(yes, dtype=bool), False)[rows]


def _is_yes(v: object) -> bool:
    return v is True or (isinstance(v, str) and v.strip() == _YES)


def _per_customer(
    codes: np.ndarray,
    strategic: np.ndarray,
    tiers: np.ndarray,
    reasons: np.ndarray,
    rules: TierRules,
    index: pd.Index,
) -> pd.DataFrame:
    labels = tier_labels(rules)
    has_key = codes >= 0
    computed = np.full(len(codes), labels[-1], dtype=object)
    reason = np.full(len(codes), NO_KEY_REASON, dtype=object)
    computed[has_key] = tiers[codes[has_key]]
    reason[has_key] = reasons[codes[has_key]]
    if rules.scheme == "default":
        computed[strategic] = TIER.values[0]
        reason[strategic] = STRATEGIC_REASON
    return pd.DataFrame({"computed": computed, "reason": reason}, index=index)


def tier_one(
    amounts: Sequence[float],
    dates: Sequence[dt.date],
    strategic: bool,
    as_of: dt.date,
    rules: TierRules,
) -> tuple[str, str]:
    """One customer's (tier, reason) through the same engine; contracts named by amount.

    Under the Pareto scheme a lone customer holds all the revenue (A, or C with none):
    use compute_tiers / KA_TIERS over the whole roster for a meaningful Pareto class.
    """
    if len(amounts) != len(dates):
        raise ValueError("amounts and dates differ in length")
    n = len(amounts)
    amount = np.array([np.nan if a is None else float(a) for a in amounts], dtype=float)
    signed = np.array(
        [np.datetime64("NaT") if d is None else np.datetime64(_day(d), "D") for d in dates],
        dtype="datetime64[D]",
    )
    book = _window_book(
        np.zeros(n, dtype=np.int64), amount, signed, np.full(n, None, object), 1, as_of, rules
    )
    tiers, reasons = evaluate(book, rules)
    out = _per_customer(
        np.zeros(1, dtype=np.int64),
        np.array([bool(strategic)]),
        tiers,
        reasons,
        rules,
        pd.RangeIndex(1),
    )
    return str(out.at[0, "computed"]), str(out.at[0, "reason"])


def _rank(labels: tuple[str, ...]) -> dict[str, int]:
    return {label: i for i, label in enumerate(labels)}


def check_tier(recorded: str | None, computed: str, rules: TierRules | None = None) -> str:
    """'ok' | 'tier_unsupported' (recorded above computed) | 'tier_upgrade' (below).

    Ranks follow the scheme's labels, highest first (default 集团级 > 分公司级 > 项目级 >
    未达标). A blank recorded tier, or one that is not a label of the scheme, gives 'ok':
    there is nothing to compare, and the `required` / `enum` findings already report it.
    """
    rank = _rank(tier_labels(rules or TierRules()))
    rec = recorded.strip() if isinstance(recorded, str) else None
    if rec not in rank or computed not in rank:
        return "ok"
    if rank[rec] < rank[computed]:
        return "tier_unsupported"
    if rank[rec] > rank[computed]:
        return "tier_upgrade"
    return "ok"


def check_tiers(
    recorded: pd.Series, computed: pd.Series, rules: TierRules | None = None
) -> pd.Series:
    """check_tier over aligned columns, vectorized."""
    rank = _rank(tier_labels(rules or TierRules()))
    rows, ranks = _per_distinct(recorded, lambda v: rank.get(_key_text(v) or "", np.nan))
    rec = np.append(np.array(ranks, dtype=float), np.nan)[rows]
    com = computed.map(rank).to_numpy(float, na_value=np.nan)
    out = np.select(
        [rec < com, rec > com], ["tier_unsupported", "tier_upgrade"], "ok"
    )  # NaN compares False -> 'ok'
    return pd.Series(out.astype(object), index=recorded.index)
