"""Merge benchmark: N branch files of M customers each (seeded), merged into a new register,
then one branch resubmits and the big register is read back, rebuilt and rewritten.

Run: python benchmarks/merge.py [--branches N] [--customers M] [--contracts K] [--dir DIR]

Prints the time of each phase (from the merge's own progress messages) and the totals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from kam.forms import TEMPLATE_VERSION
from kam.register import MergeSettings, merge
from kam.template import Layout, write_submission
from kam.uscc import make_uscc

TODAY = dt.date(2026, 10, 20)


def branch_rows(rng: random.Random, unit: str, customers: int, contracts: int) -> dict[str, Any]:
    roster, deals, cards = [], [], []
    for i in range(customers):
        code = make_uscc(rng)
        roster.append(
            {
                "name": f"{unit}客户{i:05d}有限公司",
                "uscc": code,
                "nature": "国有企业",
                "tier": "项目级",
                "unit": unit,
                "owner": "李强",
                "phone": "13812345678",
                "strategic": "否",
                "listed_on": dt.datetime(2024, 3, 1),
            }
        )
        cards.append({"uscc": code, "address": "某市某路 1 号", "business": "基础设施"})
        for k in range(contracts):
            deals.append(
                {
                    "uscc": code,
                    "contract_no": f"{unit[:2]}-{i:05d}-{k}",
                    "project": "工程",
                    "signed_on": dt.datetime(2022 + k % 4, 1 + k % 12, 10),
                    "amount": float(rng.choice((800, 5200, 12000, 25000))),
                    "pay_status": "按时",
                }
            )
    return {"roster": roster, "contracts": deals, "cards": cards}


def info(unit: str, day: int = 10) -> dict[str, Any]:
    return {
        "unit": unit,
        "quarter": "2026Q3",
        "filler": "王敏",
        "phone": "021-62345678",
        "submitted_on": dt.datetime(2026, 10, day),
        "version": TEMPLATE_VERSION,
    }


def timed_merge(s: MergeSettings) -> None:
    start = last = time.perf_counter()
    phase = "开始"

    def progress(msg: str) -> None:
        nonlocal last, phase
        now = time.perf_counter()
        if not msg.startswith("["):
            print(f"  {phase:<28} {now - last:6.2f} s")
            phase, last = msg, now
        elif phase == "开始":
            phase = "读取并校验全部文件"

    result = merge(s, progress)
    now = time.perf_counter()
    print(f"  {phase:<28} {now - last:6.2f} s")
    print(f"  合计 {now - start:.2f} s; totals {result.totals}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--branches", type=int, default=8)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--contracts", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=None)
    a = ap.parse_args()
    root = a.dir or Path(tempfile.mkdtemp(prefix="kam-merge-bench-"))
    inbox = root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    layout = Layout(data_rows=0)
    t = time.perf_counter()
    units = [f"第{i + 1:02d}分公司" for i in range(a.branches)]
    for unit in units:
        rows = branch_rows(rng, unit, a.customers, a.contracts)
        write_submission(inbox / f"{unit}.xlsx", info(unit), rows, layout=layout)
    print(f"wrote {a.branches} files in {time.perf_counter() - t:.1f} s into {inbox}")
    s = MergeSettings(register=root / "reg" / "集团大客户名录.xlsx", inbox=inbox, today=TODAY)
    print("first merge:")
    timed_merge(s)
    rows = branch_rows(rng, units[0], a.customers, a.contracts)
    write_submission(inbox / f"{units[0]}.xlsx", info(units[0], 12), rows, layout=layout)
    print("one branch resubmits (old register read back and rewritten):")
    timed_merge(s)


if __name__ == "__main__":
    main()
