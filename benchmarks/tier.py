"""Tier engine benchmark: 10,000 customers, 100,000 contracts, vectorized vs per-customer loops.

Run: python benchmarks/tier.py [--customers N] [--contracts M] [--seed S]

Prints the vectorized compute_tiers time (best of 3) and, measured in the same run, two
per-customer loop baselines with their ratios:
  * tier_one per customer: the same engine called once per customer, i.e. what a roster
    of 10,000 KA_TIER cells costs instead of one KA_TIERS call;
  * plain Python per customer: a straightforward dict-and-loop rewrite of DOMAIN §3,
    which also cross-checks every computed tier.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pandas as pd
from _codes import unique_codes

from kam.rules import TierRules
from kam.tiers import compute_tiers, tier_one, window_start

AS_OF = dt.date(2026, 9, 30)
TARGET_SECONDS, TARGET_RATIO = 0.5, 20.0


def make_data(n_customers: int, n_contracts: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded roster and ledger with every tier represented."""
    uscc = unique_codes(n_customers, seed)
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "uscc": uscc,
            "name": [f"客户{i:05d}" for i in range(n_customers)],
            "strategic": np.where(rng.random(n_customers) < 0.02, "是", "否"),
        }
    )
    # Skewed: a few customers hold many contracts, as in real ledgers.
    owner = np.minimum(rng.pareto(1.2, n_contracts) * n_customers / 20, n_customers - 1)
    days = rng.integers(0, 8 * 365, n_contracts)
    contracts = pd.DataFrame(
        {
            "uscc": uscc[rng.permutation(n_customers)[owner.astype(int)]],
            "contract_no": [f"HT-{i:06d}" for i in range(n_contracts)],
            "signed_on": pd.Timestamp(AS_OF) - pd.to_timedelta(days, unit="D"),
            "amount": np.round(rng.lognormal(7.5, 1.6, n_contracts), 2),
        }
    )
    return customers, contracts


def loop_tier_one(customers: pd.DataFrame, contracts: pd.DataFrame, rules: TierRules) -> list[str]:
    """The engine one customer at a time (after one dict pass grouping the contracts)."""
    by_key: dict[str, tuple[list[float], list[dt.date]]] = defaultdict(lambda: ([], []))
    for key, amount, day in zip(
        contracts["uscc"], contracts["amount"], contracts["signed_on"].dt.date, strict=True
    ):
        by_key[key][0].append(amount)
        by_key[key][1].append(day)
    out = []
    for key, flag in zip(customers["uscc"], customers["strategic"], strict=True):
        amounts, days = by_key.get(key, ([], []))
        out.append(tier_one(amounts, days, flag == "是", AS_OF, rules)[0])
    return out


def loop_plain(customers: pd.DataFrame, contracts: pd.DataFrame, rules: TierRules) -> list[str]:
    """DOMAIN §3 written as plain Python loops, independent of the engine."""
    p = rules.default
    start = window_start(AS_OF, p.window_years)
    by_key: dict[str, list[tuple[float, dt.date, str]]] = defaultdict(list)
    for row in zip(
        contracts["uscc"],
        contracts["amount"],
        contracts["signed_on"].dt.date,
        contracts["contract_no"],
        strict=True,
    ):
        by_key[row[0]].append(row[1:])
    out, reasons = [], []
    for key, flag in zip(customers["uscc"], customers["strategic"], strict=True):
        window = [c for c in by_key.get(key, []) if start <= c[1] <= AS_OF and c[0] > 0]
        window.sort(key=lambda c: (-c[0], c[1]))
        big = [c for c in window if c[0] > p.group_amount_gt]
        if flag == "是":
            tier, deciding = "集团级", []
        elif len(big) >= p.group_min_count:
            tier, deciding = "集团级", big
        elif window and window[0][0] >= p.branch_amount_ge:
            tier, deciding = "分公司级", [c for c in window if c[0] >= p.branch_amount_ge]
        elif window and window[0][0] >= p.project_amount_ge:
            tier, deciding = "项目级", [c for c in window if c[0] >= p.project_amount_ge]
        else:
            tier, deciding = "未达标", []
        # Reasons are built too, so both sides do the same work.
        reasons.append(", ".join(f"{no} ({day})" for _, day, no in deciding[:3]))
        out.append(tier)
    return out


def timed(job: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = job()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--contracts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20260930)
    args = ap.parse_args()
    customers, contracts = make_data(args.customers, args.contracts, args.seed)
    rules = TierRules()

    t_vec, result = timed(lambda: compute_tiers(customers, contracts, AS_OF, rules), 3)
    assert isinstance(result, pd.DataFrame)
    t_one, via_one = timed(lambda: loop_tier_one(customers, contracts, rules), 1)
    t_plain, via_plain = timed(lambda: loop_plain(customers, contracts, rules), 1)

    engine = result["computed"].tolist()
    print(
        f"tier benchmark: {len(customers):,} customers, {len(contracts):,} contracts, "
        f"as-of {AS_OF}, seed {args.seed}"
    )
    print(f"  tiers: {pd.Series(engine).value_counts().to_dict()}")
    print(f"  vectorized compute_tiers (best of 3)   {t_vec:8.3f} s")
    print(f"  loop: tier_one per customer           {t_one:8.3f} s   ratio {t_one / t_vec:6.1f}x")
    print(
        f"  loop: plain Python per customer       {t_plain:8.3f} s   ratio {t_plain / t_vec:6.1f}x"
    )
    print(
        f"  results agree with tier_one loop: {engine == via_one}; "
        f"with plain loop: {engine == via_plain}"
    )
    ok = t_vec < TARGET_SECONDS and t_one / t_vec >= TARGET_RATIO
    print(
        f"  target < {TARGET_SECONDS} s and >= {TARGET_RATIO:.0f}x vs tier_one loop: "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
