"""Group insight benchmark: the 考核 scorecard and the 风险敞口 exposure of a large register.

Run: python benchmarks/insight.py [--customers N] [--contracts M] [--logs L] [--seed S]

Prints, measured in the same run:
  * kam.insight: scorecard + exposure of every customer + the 风险敞口 rows (best of 3);
  * a per-customer Python loop baseline for the exposure: the ledger grouped into a dict of
    rows per customer, each contract deduplicated and summed customer by customer (written
    independently; it cross-checks every customer's receivable, overdue and contract count);
  * the usual naive pandas, one boolean filter of the ledger per customer (timed on 300
    customers and scaled linearly);
and the throughput (customers per second) and the ratios. Target: < 5 s for the whole insight.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from _codes import unique_codes

from kam.insight.exposure import exposure_rows, exposures
from kam.insight.facts import Facts
from kam.insight.kpi import EXPECTED, scorecard
from kam.register.columns import REG_BY_SOURCE, REG_ROSTER, RISK_LIST, SOURCES
from kam.rules import load_rules

sys.path.insert(0, str(Path(__file__).parent))
AS_OF, QUARTER = dt.date(2026, 9, 30), "2026Q3"
UNITS = tuple(f"第{i}分公司" for i in range(20))


def make_facts(n: int, m: int, logs: int, seed: int) -> Facts:
    rng = np.random.default_rng(seed)
    keys = np.array(unique_codes(n, seed), dtype=object)
    unit = rng.choice(UNITS, n)

    def table(form_id: str, data: dict[str, object], rows: int) -> pd.DataFrame:
        ids = [f.id for f in (REG_ROSTER if form_id == "roster" else REG_BY_SOURCE[form_id]).fields]
        return pd.DataFrame(data, index=range(rows)).reindex(columns=ids).astype(object)

    view = table(
        "roster",
        {
            "uscc": keys,
            "name": [f"客户{i}" for i in range(n)],
            "unit": unit,
            "source_unit": unit,
            "owner": rng.choice([f"员工{i}" for i in range(300)], n),
            "quarter": QUARTER,
            "tier": rng.choice(["集团级", "分公司级", "项目级"], n, p=[0.1, 0.3, 0.6]),
            "calc_tier": "项目级",
            "risk_level": rng.choice(["高", "中", "低", "无"], n),
            "listed_on": pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 2000, n), unit="D"),
        },
        n,
    )
    cards = table(
        "cards",
        {
            "uscc": keys,
            "quarter": QUARTER,
            "source_unit": unit,
            **{f: np.where(rng.random(n) < 0.05, None, "有") for f in EXPECTED},
        },
        n,
    )
    who = rng.integers(0, n, m)
    late = rng.random(m) < 0.15
    contracts = table(
        "contracts",
        {
            "uscc": keys[who],
            "contract_no": [f"HT-{i % (m // 2 + 1)}" for i in range(m)],
            "source_unit": rng.choice(UNITS, m),
            "quarter": rng.choice(["2026Q2", QUARTER], m),
            "signed_on": pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 2500, m), unit="D"),
            "amount": rng.uniform(10, 30000, m).round(2),
            "pay_status": np.where(late, "逾期", "按时"),
            "overdue_days": np.where(late, rng.integers(1, 300, m), None),
            "receivable": rng.uniform(0, 500, m).round(2),
        },
        m,
    )
    deadline = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(-30, 80, logs), unit="D")
    maint = table(
        "maintenance",
        {
            "uscc": keys[rng.integers(0, n, logs)],
            "source_unit": rng.choice(UNITS, logs),
            "quarter": QUARTER,
            "owner": rng.choice([f"员工{i}" for i in range(300)], logs),
            "issue": np.where(rng.random(logs) < 0.5, "问题", None),
            "deadline": deadline,
            "closed": rng.choice(["是", "否"], logs),
            "closed_on": deadline,
        },
        logs,
    )
    empty = {
        sid: pd.DataFrame(columns=[f.id for f in form.fields], dtype=object)
        for sid, form in REG_BY_SOURCE.items()
    }
    tables = empty | {"cards": cards, "contracts": contracts, "maintenance": maint}
    risks = pd.DataFrame(columns=[f.id for f in RISK_LIST.fields], dtype=object)
    sources = pd.DataFrame(
        [
            {
                "unit": u,
                "quarter": QUARTER,
                "status": "merged",
                "rows_in": 100,
                "rejected": 1,
                "submitted_on": pd.Timestamp(AS_OF),
            }
            for u in UNITS
        ]
    )
    sources = sources.reindex(columns=[f.id for f in SOURCES.fields])
    return Facts(QUARTER, AS_OF, view, tables, risks, sources, load_rules())


def insight(f: Facts) -> dict:
    scorecard(f)
    found = exposures(f)
    exposure_rows(f, found)
    return found


def loop_exposure(f: Facts) -> dict[str, tuple[float, float, int]]:
    """Per customer: receivable, overdue receivable and contract count, by plain Python."""
    latest: dict[tuple, dict] = {}
    for rec in f.tables["contracts"].to_dict(orient="records"):
        k = (rec["source_unit"], rec["uscc"], rec["contract_no"])
        if k not in latest or rec["quarter"] >= latest[k]["quarter"]:
            latest[k] = rec
    by_customer: dict[str, list[dict]] = defaultdict(list)
    for (_u, key, _no), rec in latest.items():
        by_customer[key].append(rec)
    out = {}
    for key in f.view["uscc"]:
        rows = by_customer.get(key, [])
        rec = sum(r["receivable"] for r in rows)
        late = sum(r["receivable"] for r in rows if r["pay_status"] == "逾期")
        out[key] = (round(rec, 4), round(late, 4), len(rows))
    return out


def filter_per_customer(f: Facts, sample: int) -> float:
    """The usual naive pandas: one boolean filter of the ledger per customer (seconds, scaled)."""
    ledger = f.tables["contracts"]
    keys = list(f.view["uscc"])[:sample]
    t = time.perf_counter()
    for key in keys:
        rows = ledger[ledger["uscc"] == key].drop_duplicates(["source_unit", "contract_no"])
        rows["receivable"].sum()
        rows.loc[rows["pay_status"] == "逾期", "receivable"].sum()
    return (time.perf_counter() - t) * len(f.view) / max(len(keys), 1)


def best(fn, *args, runs: int = 3):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--contracts", type=int, default=100000)
    ap.add_argument("--logs", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    f = make_facts(a.customers, a.contracts, a.logs, a.seed)
    fast, found = best(insight, f)
    only, _ = best(exposures, f)
    slow, naive = best(loop_exposure, f, runs=1)
    filtered = filter_per_customer(f, 300)
    for key, (rec, late, n) in naive.items():
        e = found[key]
        assert (
            abs(e.receivable - rec) < 1e-3,
            abs(e.overdue_receivable - late) < 1e-3,
            e.contracts,
        ) == (True, True, n), key
    print(
        f"insight (scorecard + exposure + 风险敞口): {fast:.2f} s, "
        f"{a.customers / fast:,.0f} customers/s ({a.contracts:,} contracts, {a.logs:,} logs)"
    )
    print(f"  of which exposure of every customer:     {only:.2f} s")
    print(
        f"per-customer dict loop (exposure only):   {slow:.2f} s "
        f"(cross-checked {len(naive):,} customers); ratio to exposure {slow / only:.1f}x"
    )
    print(
        f"per-customer pandas filter (exposure only, scaled from 300): {filtered:.1f} s; "
        f"ratio to the whole insight {filtered / fast:.0f}x"
    )


if __name__ == "__main__":
    main()
