"""The three tier schemes over window contracts held as numpy arrays (one pass, no row loops).

Customers are identified by a dense integer code 0..n_keys-1. Each scheme returns, per code,
the computed tier and a Chinese one-line reason. Contract-level work is numpy; only the
reason text is assembled per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kam.forms import TIER, UNMET_TIER
from kam.rules import DefaultTierProfile, ParetoProfile, ThresholdProfile, TierRules

GROUP, BRANCH, PROJECT = TIER.values
DEFAULT_ORDER: tuple[str, ...] = (GROUP, BRANCH, PROJECT, UNMET_TIER)
"""Default-scheme tiers, highest first."""
LIST_TOP = 3
"""How many deciding contracts a reason names (the largest); more are summarised as 等 N 份."""


@dataclass(frozen=True)
class WindowBook:
    """The contracts inside the window, sorted by customer, amount (largest first), date."""

    key: np.ndarray  # int64 customer code, ascending
    amount: np.ndarray  # float64, > 0
    day: np.ndarray  # datetime64[D]
    number: np.ndarray  # object: contract number as given; blank -> named by its amount
    n_keys: int
    years: int  # window length, for the reasons

    @classmethod
    def build(
        cls,
        key: np.ndarray,
        amount: np.ndarray,
        day: np.ndarray,
        number: np.ndarray,
        n_keys: int,
        years: int,
    ) -> WindowBook:
        order = np.lexsort((day, -amount, key))
        return cls(key[order], amount[order], day[order], number[order], n_keys, years)

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Contracts per customer (only those in `mask` when given)."""
        keys = self.key if mask is None else self.key[mask]
        return np.bincount(keys, minlength=self.n_keys)

    def totals(self) -> np.ndarray:
        """Sum of amounts per customer."""
        # astype: bincount of nothing is int64 even with float weights.
        return np.bincount(self.key, weights=self.amount, minlength=self.n_keys).astype(float)

    def largest(self) -> np.ndarray:
        """Largest single amount per customer (0 when it has none)."""
        out = np.zeros(self.n_keys)
        first = self.first_rows()
        has = self.counts() > 0
        out[has] = self.amount[first[has]]
        return out

    def first_rows(self) -> np.ndarray:
        """Row of each customer's largest contract (meaningless where it has none)."""
        return np.minimum(np.searchsorted(self.key, np.arange(self.n_keys)), len(self.key) - 1)

    def listing(self, n_deciding: np.ndarray) -> np.ndarray:
        """Per customer, its n largest contracts named, e.g. `HT-1 (2024-07-15), … 等 5 份`."""
        out = np.full(self.n_keys, "", dtype=object)
        if len(self.key) == 0:
            return out
        rank = np.arange(len(self.key)) - self.first_rows()[self.key]
        for r in range(LIST_TOP):
            rows = np.flatnonzero((rank == r) & (r < n_deciding[self.key]))
            if len(rows) == 0:
                break
            keys = self.key[rows]
            names = self._names(rows)
            out[keys] = names if r == 0 else out[keys] + ", " + names
        more = n_deciding > LIST_TOP
        out[more] = out[more] + " 等 " + n_deciding[more].astype(str).astype(object) + " 份"
        return out

    def _names(self, rows: np.ndarray) -> np.ndarray:
        dates = np.datetime_as_string(self.day[rows], unit="D").astype(object)
        # Contract numbers are text nearly always: strip those in one pass, then name the
        # few blank ones by their amount.
        names = [n.strip() if type(n) is str else _number_text(n) for n in self.number[rows]]
        amounts = self.amount[rows]
        for i in [i for i, name in enumerate(names) if not name]:
            names[i] = f"{amount_text(amounts[i])} 万元"
        return np.array(names, dtype=object) + " (" + dates + ")"


def _number_text(v: object) -> str:
    """A contract number as Excel shows it ('' when blank: the amount names it instead)."""
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return f"{v:.0f}" if v.is_integer() else str(v)
    return "" if v is None or v is pd.NA else str(v).strip()


def amount_text(x: float) -> str:
    """An amount in 万元 without trailing zeros: 20000, 12345.5."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _texts(values: np.ndarray) -> np.ndarray:
    return np.array([amount_text(v) for v in values], dtype=object)


def tier_labels(rules: TierRules) -> tuple[str, ...]:
    """The labels the selected scheme can compute, highest first."""
    if rules.scheme == "pareto":
        return tuple(rules.pareto.labels)
    if rules.scheme == "threshold":
        return (*(b.label for b in rules.threshold.bands), rules.threshold.otherwise)
    return DEFAULT_ORDER


def evaluate(book: WindowBook, rules: TierRules) -> tuple[np.ndarray, np.ndarray]:
    """(tier, reason) per customer code under the selected scheme (strategic flag not applied)."""
    if rules.scheme == "pareto":
        return pareto_tiers(book, rules.pareto)
    if rules.scheme == "threshold":
        return threshold_tiers(book, rules.threshold)
    return default_tiers(book, rules.default)


def default_tiers(book: WindowBook, p: DefaultTierProfile) -> tuple[np.ndarray, np.ndarray]:
    """DOMAIN §3: 集团级 / 分公司级 / 项目级 / 未达标 from the contracts in the window."""
    n_group = book.counts(book.amount > p.group_amount_gt)
    n_branch = book.counts(book.amount >= p.branch_amount_ge)
    n_project = book.counts(book.amount >= p.project_amount_ge)
    is_group = n_group >= p.group_min_count
    is_branch = ~is_group & (n_branch > 0)
    is_project = ~is_group & ~is_branch & (n_project > 0)
    tier = np.select([is_group, is_branch, is_project], [GROUP, BRANCH, PROJECT], UNMET_TIER)
    deciding = np.select([is_group, is_branch, is_project], [n_group, n_branch, n_project], 0)
    heads = np.select(
        [is_group, is_branch, is_project],
        [
            f" 份合同 > {amount_text(p.group_amount_gt)} 万元: ",
            f" 份合同 ≥ {amount_text(p.branch_amount_ge)} 万元: ",
            f" 份合同 ≥ {amount_text(p.project_amount_ge)} 万元: ",
        ],
        "",
    ).astype(object)
    reason = deciding.astype(str).astype(object) + heads + book.listing(deciding)
    unmet = f"近 {book.years} 年无 ≥ {amount_text(p.project_amount_ge)} 万元的合同"
    reason[tier == UNMET_TIER] = unmet
    return tier.astype(object), reason


def pareto_tiers(book: WindowBook, p: ParetoProfile) -> tuple[np.ndarray, np.ndarray]:
    """A/B/C by cumulative share of window revenue over all customers given.

    Customers are ranked by revenue, largest first; a customer is A while the revenue of
    the customers strictly ahead of it is below a_share of the total (so the one that
    crosses 80% is A: "the top customers making up 80%"), B likewise up to b_share, else C.
    Equal revenues share one position, so ties always get the same class whatever the
    row order. Zero revenue is always C.
    """
    a, b, c = p.labels
    revenue = book.totals()
    total = revenue.sum()
    ranked = -np.sort(-revenue)
    values, starts = np.unique(-ranked, return_index=True)  # distinct revenues, largest first
    ahead_by_value = np.concatenate(([0.0], np.cumsum(ranked)))[starts]
    pos = np.searchsorted(values, -revenue)
    ahead = ahead_by_value[pos]  # revenue of customers strictly ahead
    rank = starts[pos] + 1
    eps = 1e-9 * total
    positive = revenue > 0
    tier = np.select(
        [
            positive & (ahead < p.a_share * total - eps),
            positive & (ahead < p.b_share * total - eps),
        ],
        [a, b],
        c,
    ).astype(object)
    share = np.divide(revenue, total, out=np.zeros_like(revenue), where=total > 0)
    before = np.divide(ahead, total, out=np.zeros_like(revenue), where=total > 0)
    verdict = {
        a: f"未达 {p.a_share:.0%}，属 {a} 类",
        b: f"已达 {p.a_share:.0%}、未达 {p.b_share:.0%}，属 {b} 类",
        c: f"已达 {p.b_share:.0%}，属 {c} 类",
    }
    reason = np.array(
        [
            f"近 {book.years} 年合同额 {amount_text(v)} 万元，占 {s:.1%}，"
            f"排名第 {r}/{book.n_keys}，排在前面的客户累计 {x:.1%}，{verdict[t]}"
            for v, s, r, x, t in zip(revenue, share, rank, before, tier, strict=True)
        ],
        dtype=object,
    )
    reason[~positive] = f"近 {book.years} 年无合同额"
    return tier, reason


def threshold_tiers(book: WindowBook, p: ThresholdProfile) -> tuple[np.ndarray, np.ndarray]:
    """The first band (in the listed order) whose minimum the measure reaches, else otherwise."""
    count = book.counts()
    if p.measure == "max_contract":
        value = book.largest()
        what = f"近 {book.years} 年最大单份合同 "
        tail = ": " + book.listing(np.minimum(count, 1))
    else:
        value = book.totals()
        what = f"近 {book.years} 年合同总额 "
        tail = "（" + count.astype(str).astype(object) + " 份）"
    tier = np.full(book.n_keys, p.otherwise, dtype=object)
    bound = np.full(book.n_keys, "", dtype=object)
    open_ = np.ones(book.n_keys, dtype=bool)
    for band in p.bands:
        hit = open_ & (value >= band.min)
        tier[hit] = band.label
        bound[hit] = f" ≥ {amount_text(band.min)} 万元"
        open_ &= ~hit
    if p.bands:
        bound[open_] = f" < {amount_text(min(b.min for b in p.bands))} 万元"
    reason = what + _texts(value) + " 万元" + bound + tail
    reason[count == 0] = f"近 {book.years} 年无合同"
    return tier, reason
