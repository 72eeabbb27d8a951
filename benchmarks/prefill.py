"""Pre-fill benchmark (DOMAIN §9.3): next quarter's workbooks for 100 branches from one register.

Run: python benchmarks/prefill.py [--files N] [--rows M] [--dir DIR] [--naive-branches K]

The workload is the merge benchmark's 2026Q3 inbox (benchmarks/_inbox.py: N branch files of
M rows each, spread over the six sheets), merged once into a register that is cached in DIR
(default /tmp/kam-prefill-bench) with its parameters. Then, each in its own forked child and
measured in the same run:
  1. ours: kam.prefill for every branch of the register (the `kam template --prefill` path);
  2. naive: openpyxl reads the register (read-only mode), and writes each branch's rows of the
     same four sheets into a workbook of its own, one branch after the other. With
     --naive-branches K < N only the first K branches are written and the write time is
     scaled by N/K (the output says so).
It prints rows and files per second, peak memory and the ratio, and the target: 100 branches
from a register of about 650,000 rows in under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import python_calamine as calamine
from _inbox import InboxSpec, build_inbox
from merge import in_child

from kam.forms import CARDS, CONTRACTS, MAINTENANCE, ROSTER
from kam.prefill import PrefillSettings, prefill
from kam.register import MergeSettings, merge
from kam.register.columns import REG_BY_SOURCE, REGISTER_FILENAME

QUARTER, NEXT = "2026Q3", "2026Q4"
TODAY = dt.date(2026, 10, 20)
TARGET_SECONDS = 60.0
FORMS = (ROSTER, CARDS, CONTRACTS, MAINTENANCE)


def register_for(spec: InboxSpec, root: Path) -> Path:
    """The merged register of the spec's 2026Q3 inbox, cached beside a manifest."""
    register = root / "register" / REGISTER_FILENAME
    manifest = root / "register" / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == spec.__dict__:
        return register
    inboxes, _ = build_inbox(root / "inbox", spec)
    shutil.rmtree(register.parent, ignore_errors=True)
    register.parent.mkdir(parents=True)
    merge(MergeSettings(register=register, inbox=inboxes[QUARTER], today=TODAY))
    manifest.write_text(json.dumps(spec.__dict__))
    return register


def data_rows(register: Path) -> int:
    """Rows of the register's customer and data sheets (headers excluded)."""
    book = calamine.load_workbook(str(register))
    sheets = [form.sheet for form in REG_BY_SOURCE.values()]
    return sum(len(book.get_sheet_by_name(s).to_python()) - 1 for s in sheets)


def ours(register: Path, out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    done = prefill(PrefillSettings(register, NEXT, out))
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "cpu": sum(u.ru_utime + u.ru_stime for u in usage),
        "load": os.getloadavg()[0],
        "seconds": time.perf_counter() - start,
        "files": len(done),
        "rows": sum(sum(d.counts.values()) for d in done),
    }


def naive(register: Path, out: Path, limit: int) -> dict[str, Any]:
    """openpyxl both ways: read every row of the four sheets, write each branch's rows."""
    start = time.perf_counter()
    wb = openpyxl.load_workbook(register, read_only=True)
    by_branch: dict[str, dict[str, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
    for form in FORMS:
        ws = wb[REG_BY_SOURCE[form.id].sheet]
        rows = ws.iter_rows(values_only=True)
        head = list(next(rows))
        unit = head.index("来源单位")
        cols = [head.index(f.header) for f in form.data_fields]
        for row in rows:
            by_branch[row[unit]][form.id].append(tuple(row[c] for c in cols))
    wb.close()
    read = time.perf_counter() - start
    branches = sorted(b for b in by_branch if b)
    written = 0
    for branch in branches[:limit]:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for form in FORMS:
            ws = book.create_sheet(form.sheet)
            ws.append([f.header for f in form.data_fields])
            for row in by_branch[branch][form.id]:
                ws.append(row)
                written += 1
        book.save(out / f"{branch}_{NEXT}_报送.xlsx")
    return {
        "read": read,
        "write": time.perf_counter() - start - read,
        "branches": len(branches),
        "rows": written,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100, help="branches (files of the quarter)")
    ap.add_argument("--rows", type=int, default=6500, help="data rows per branch file")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kam-prefill-bench"))
    ap.add_argument("--naive-branches", type=int, default=0, help="write K branches, scale")
    a = ap.parse_args()
    spec = InboxSpec(files=a.files, rows=a.rows, seed=a.seed)
    start = time.perf_counter()
    register = register_for(spec, a.dir)
    rows = data_rows(register)
    print(
        f"register: {register} ({register.stat().st_size / 2**20:.0f} MiB, {rows:,} data rows;"
        f" ready in {time.perf_counter() - start:.1f} s)"
    )
    runs = {}
    for name in ("ours", "naive"):
        out = a.dir / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        if name == "ours":
            runs[name] = in_child(ours, register, out)
        else:
            runs[name] = in_child(naive, register, out, a.naive_branches or a.files)
    o, n = runs["ours"], runs["naive"]
    k = min(a.naive_branches or n["branches"], n["branches"])
    scale = n["branches"] / k
    naive_seconds = n["read"] + n["write"] * scale
    print(
        f"ours:  {o['files']} workbooks, {o['rows']:,} rows in {o['seconds']:.1f} s: "
        f"{o['rows'] / o['seconds']:,.0f} rows/s, {o['files'] / o['seconds']:.1f} files/s, "
        f"peak {o['rss_self'] / 2**20:,.0f} MiB; CPU {o['cpu']:.1f} s over both cores, "
        f"load average {o['load']:.1f} at the end"
    )
    scaled = f" (wrote {k} of {n['branches']} branches, write time x{scale:g})" if scale > 1 else ""
    print(
        f"naive: read {n['read']:.1f} s + write {n['write'] * scale:.1f} s = "
        f"{naive_seconds:.1f} s{scaled}, peak {n['rss_self'] / 2**20:,.0f} MiB"
    )
    ratio = naive_seconds / o["seconds"]
    met = o["seconds"] < TARGET_SECONDS
    print(f"ratio: ours is {ratio:.1f}x faster than naive")
    print(
        f"target: {a.files} branches in < {TARGET_SECONDS:g} s: {o['seconds']:.1f} s "
        f"{'met' if met else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
