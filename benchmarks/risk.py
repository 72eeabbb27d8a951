"""Risk engine benchmark: 10,000 customers, 100,000 contracts, 200,000 log rows (seeded).

Run: python benchmarks/risk.py [--customers N] [--contracts M] [--logs L] [--seed S]

Prints, measured in the same run:
  * the vectorized engine, kam.risk.assess (best of 3; computed tiers given, as the CLI
    computes them once for the tier columns too), and assess computing the tiers itself;
  * a per-customer Python loop baseline: the logs and ledger grouped into dicts, then every
    rule of DOMAIN §4 evaluated customer by customer with its detail text. It is written
    independently of the engine and cross-checks every customer's level and fired rules;
  * the engine called once per customer on that customer's rows (timed on a seeded sample
    of --sample customers and scaled linearly: every call costs about the same);
and the ratios. Target: engine < 2 s and >= 20x the loop.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _codes import unique_codes

from kam.forms import MAINT_METHOD, RISK_TYPE
from kam.risk import RiskInput, assess
from kam.risk_rules import RULES
from kam.rules import Rules
from kam.tiers import compute_tiers

AS_OF = dt.date(2026, 9, 30)
TARGET_SECONDS, TARGET_RATIO = 2.0, 20.0
UNITS = ("华东分公司", "华南分公司", "华北分公司", "西南分公司")
RANK = {"高": 3, "中": 2, "低": 1}
LEVELS = ("无", "低", "中", "高")
RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}


def _days_before(rng: np.random.Generator, n: int, span: int) -> pd.Series:
    return pd.Series(pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(-5, span, n), unit="D"))


def make_data(n_cust: int, n_contracts: int, n_logs: int, seed: int) -> RiskInput:
    """A seeded roster, ledger and logs (40% reception, 50% maintenance, 10% risk)."""
    uscc = unique_codes(n_cust, seed)
    rng = np.random.default_rng(seed)
    roster = pd.DataFrame(
        {
            "uscc": uscc,
            "name": [f"客户{i:05d}" for i in range(n_cust)],
            "tier": rng.choice(["集团级", "分公司级", "项目级"], n_cust, p=[0.1, 0.3, 0.6]),
            "unit": rng.choice(UNITS, n_cust),
            "strategic": np.where(rng.random(n_cust) < 0.02, "是", "否"),
        }
    )
    status = rng.choice(["按时", "逾期", "未到期"], n_contracts, p=[0.6, 0.2, 0.2])
    contracts = pd.DataFrame(
        {
            "uscc": rng.choice(uscc, n_contracts),
            "contract_no": [f"HT-{i:06d}" for i in range(n_contracts)],
            "signed_on": _days_before(rng, n_contracts, 8 * 365),
            "amount": np.round(rng.lognormal(7.5, 1.6, n_contracts), 2),
            "pay_status": status,
            "overdue_days": np.where(status == "逾期", rng.integers(1, 200, n_contracts), np.nan),
        }
    )
    n_rec, n_risk = int(n_logs * 0.4), int(n_logs * 0.1)
    n_m = n_logs - n_rec - n_risk
    reception = pd.DataFrame(
        {
            "date": _days_before(rng, n_rec, 730),
            "uscc": rng.choice(uscc, n_rec),
            "top_level": rng.choice(["是", "否"], n_rec, p=[0.2, 0.8]),
        }
    )
    maintenance = pd.DataFrame(
        {
            "date": _days_before(rng, n_m, 730),
            "uscc": rng.choice(uscc, n_m),
            "method": rng.choice(MAINT_METHOD.values, n_m),
            "unit": rng.choice(UNITS, n_m, p=[0.85, 0.05, 0.05, 0.05]),
            "summary": "走访沟通",
            "issue": np.where(rng.random(n_m) < 0.3, "工程款支付", None),
            "deadline": _days_before(rng, n_m, 400).where(rng.random(n_m) < 0.3),
            "closed": rng.choice(np.array(["是", "否", None], dtype=object), n_m),
        }
    )
    risk = pd.DataFrame(
        {
            "uscc": rng.choice(uscc, n_risk),
            "risk_type": rng.choice(
                RISK_TYPE.values, n_risk, p=[0.1] * 4 + [0.01, 0.29] + [0.1] * 3
            ),
            "level": rng.choice(["高", "中", "低"], n_risk),
            "found_on": _days_before(rng, n_risk, 730),
            "description": "风险描述",
        }
    )
    frames = (roster, contracts, reception, maintenance, risk)
    return RiskInput(*(_as_read(f) for f in frames))


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object dtype with None for blanks, as kam.reader's frames hold them."""
    return frame.assign(
        **{
            c: pd.Series(frame[c].to_numpy(object, na_value=None), frame.index, dtype=object)
            for c in frame.columns
            if frame[c].dtype == "str"
        }
    )


def _rows(frame: pd.DataFrame, cols: list[str]) -> list[tuple[Any, ...]]:
    out = [frame[c].dt.date if frame[c].dtype.kind == "M" else frame[c] for c in cols]
    return list(zip(*out, strict=True))


def _short(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= 30 else text[:30] + "…"


def _said(found: Any, typ: str, level: str, desc: str) -> str:
    day = "日期未填" if found is None or found != found else found.isoformat()
    desc = _short(desc)
    return f"{day} 报告“{typ}”（{level}）" + (f"：{desc}" if desc else "")


def _join(evidence: list[tuple[int, float, str]]) -> tuple[int, str]:
    evidence.sort(key=lambda e: (-e[0], e[1]))
    text = "；".join(e[2] for e in evidence[:3])
    if len(evidence) > 3:
        text += f"；等共 {len(evidence)} 项"
    return evidence[0][0], text


def loop(data: RiskInput, tiers: pd.Series) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """DOMAIN §4 as plain Python, customer by customer: (level, [(rule, level, detail)])."""
    by: dict[str, dict[str, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
    for name, frame, cols in (
        ("c", data.contracts, ["uscc", "contract_no", "pay_status", "overdue_days"]),
        ("r", data.reception, ["uscc", "date", "top_level"]),
        ("m", data.maintenance, ["uscc", "date", "method", "unit", "closed", "deadline", "issue",
                                 "summary"]),
        ("k", data.risk, ["uscc", "risk_type", "level", "found_on", "description"]),
    ):  # fmt: skip
        for row in _rows(frame, cols):
            by[row[0]][name].append(row[1:])
    q = (AS_OF.year * 4 + (AS_OF.month - 1) // 3) - 1
    q_start = dt.date(q // 4, (q % 4) * 3 + 1, 1)
    since, year_ago = AS_OF - dt.timedelta(days=90), AS_OF.replace(year=AS_OF.year - 1)
    out = []
    for key, tier, unit, computed in zip(
        data.roster["uscc"], data.roster["tier"], data.roster["unit"], tiers, strict=True
    ):
        logs = by.get(key, {})
        ev: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
        for typ, level, found, desc in logs.get("k", ()):
            if found > AS_OF:
                continue
            latest = -found.toordinal()
            if typ == "破产征兆":
                ev["bankruptcy"].append((3, latest, _said(found, typ, level, desc)))
            elif q_start <= found:
                ev["reported_risk"].append((RANK[level], latest, _said(found, typ, level, desc)))
                if typ == "决策层变更":
                    ev["leadership_change"].append((2, latest, _said(found, typ, level, desc)))
        for no, status, days in logs.get("c", ()):
            if status == "逾期" and days > 0:
                rank = 3 if days > 90 else 2 if days > 30 else 1
                ev["overdue_payment"].append((rank, -days, f"合同 {no} 逾期 {days:.0f} 天"))
        contacts = [(d, top == "是") for d, top in logs.get("r", ())]
        contacts += [(m[0], m[1] == "高层互动") for m in logs.get("m", ())]
        seen = [c for c in contacts if c[0] <= AS_OF]
        if not any(d >= since for d, _ in seen):
            last = max((d for d, _ in seen), default=None)
            tail = f"（最近一次 {last}）" if last else "（无任何记录）"
            ev["no_contact"].append((1, 0, "近 90 天无接待或维护记录" + tail))
        group = tier == "集团级" or computed == "集团级"
        tops = [d for d, top in seen if top]
        n_top = sum(1 for d in tops if d > year_ago)
        if group and n_top < 2:
            tail = f"；最近一次 {max(tops)}" if tops else "；无高层接触记录"
            text = f"集团级客户近 12 个月高层接触 {n_top} 次（应至少 2 次{tail}）"
            ev["few_top_contacts"].append((2, 0, text))
        for d, _method, m_unit, closed, due, issue, summary in logs.get("m", ()):
            if d > AS_OF:
                continue
            if closed != "是" and due == due and due < AS_OF:
                what = _short(issue if issue == issue and issue else summary)
                text = f"{d} 维护记录“{what}”响应时限 {due} 已过 {(AS_OF - due).days} 天，未闭环"
                ev["open_issue_overdue"].append((2, due.toordinal(), text))
            if group and m_unit != unit:
                text = f"{d} 由“{m_unit}”维护（责任单位为“{unit}”）"
                ev["unauthorised_contact"].append((1, -d.toordinal(), text))
        hits = [(rule, *_join(items)) for rule, items in ev.items()]
        hits.sort(key=lambda h: (-h[1], RULE_ORDER[h[0]]))
        level = hits[0][1] if hits else 0
        out.append((LEVELS[level], [(rule, LEVELS[rank], text) for rule, rank, text in hits]))
    return out


def engine_per_customer(
    data: RiskInput, tiers: pd.Series, sample: int, seed: int
) -> tuple[float, list[int], list[str]]:
    """assess called once per customer on its own rows (grouped beforehand, not timed), as a
    per-customer worksheet function or a row-by-row macro would; timed on a seeded sample.

    Returns (seconds for the sample, the sampled roster positions, their levels).
    """
    frames = {
        name: dict(tuple(getattr(data, name).groupby("uscc")))
        for name in ("contracts", "reception", "maintenance", "risk")
    }
    empty = {name: getattr(data, name).iloc[:0] for name in frames}
    picks = sorted(random.Random(seed).sample(range(len(data.roster)), sample))
    rules = Rules()
    t0 = time.perf_counter()
    levels = []
    for i in picks:
        key = data.roster["uscc"].iat[i]
        one = {name: frames[name].get(key, empty[name]) for name in frames}
        result = assess(
            RiskInput(data.roster.iloc[[i]], tiers=tiers.iloc[[i]], **one), AS_OF, rules
        )
        levels.append(result.customers["level"].iat[0])
    return time.perf_counter() - t0, picks, levels


def timed(job: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = job()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--contracts", type=int, default=100_000)
    ap.add_argument("--logs", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=20260930)
    ap.add_argument("--sample", type=int, default=100, help="customers timed one by one")
    args = ap.parse_args()
    data = make_data(args.customers, args.contracts, args.logs, args.seed)
    rules = Rules()
    tiers = compute_tiers(data.roster, data.contracts, AS_OF, rules.tier)["computed"]
    given = RiskInput(**{**data.__dict__, "tiers": tiers})

    t_vec, result = timed(lambda: assess(given, AS_OF, rules), 3)
    t_full, _ = timed(lambda: assess(data, AS_OF, rules), 1)
    t_loop, via_loop = timed(lambda: loop(data, tiers), 1)
    sample = min(args.sample, len(data.roster))
    t_one, picks, one_levels = engine_per_customer(data, tiers, sample, args.seed)
    t_each = t_one * len(data.roster) / sample
    assert not isinstance(result, (type(None), list))
    c = result.customers  # type: ignore[attr-defined]
    engine = [
        (lvl, [(r.rule, r.level, r.detail) for r in rs])
        for lvl, rs in zip(c["level"], c["reasons"], strict=True)
    ]
    print(
        f"risk benchmark: {len(data.roster):,} customers, {len(data.contracts):,} contracts, "
        f"{len(data.reception) + len(data.maintenance) + len(data.risk):,} log rows, "
        f"as-of {AS_OF}, seed {args.seed}"
    )
    print(f"  levels: {c['level'].value_counts().to_dict()}; hits: {len(result.hits):,}")  # type: ignore[attr-defined]
    print(f"  engine: assess, tiers given (best of 3)   {t_vec:8.3f} s")
    print(f"  engine: assess, computing tiers         {t_full:8.3f} s")
    print(
        f"  loop: plain Python per customer         {t_loop:8.3f} s   ratio {t_loop / t_vec:6.1f}x"
    )
    print(
        f"  loop: assess per customer              {t_each:8.3f} s   ratio {t_each / t_vec:6.1f}x"
        f"   ({t_one:.2f} s measured on {sample} seeded customers, scaled to {len(c):,})"
    )
    print(
        "  results agree with the plain loop (level, rules and details per customer):",
        engine == via_loop,
    )
    same = one_levels == c["level"].iloc[picks].tolist()
    print("  levels agree with assess per customer:", same)
    for name, t in (("plain Python loop", t_loop), ("assess per customer", t_each)):
        ok = t_vec < TARGET_SECONDS and t / t_vec >= TARGET_RATIO
        print(
            f"  target < {TARGET_SECONDS} s and >= {TARGET_RATIO:.0f}x vs {name}: "
            f"{'met' if ok else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
