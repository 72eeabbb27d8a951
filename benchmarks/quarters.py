"""The register over the years: successive quarters merged one after another (issue #18).

Default workload: 12 quarters (2024Q1 .. 2026Q4) of 20 branches x 1,000 customers, each
file the branch's full state (roster, cards, contract ledger) plus that quarter's events
(benchmarks/_quarters_inbox.py). Each quarter is merged into the register of the previous
one, in a forked child; the script prints per quarter: wall time, peak memory (ru_maxrss of
the merge process and of the largest reader it forks), the register's size and the archive
files', the largest sheet's row count (from the sheet XML's dimension), and the naive
pandas + openpyxl pipeline (benchmarks/_baselines.py) for the same quarter in the same run,
chained on its own previous workbook.

Run: python benchmarks/quarters.py [--branches N] [--customers M] [--quarters Q]
                                   [--dir DIR] [--skip-naive] [--naive-quarters K]
The naive pipeline concatenates all history, so it only gets slower each quarter (and fails
once a sheet passes Excel's limit); --naive-quarters K times it for the first K quarters.
Targets: the last quarter within 1.3x the time of the second; peak memory < 2 GiB; no sheet
past Excel's 1,048,576 rows; every quarter >= 5x faster than naive.
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

from _baselines import naive_merge
from _quarters_inbox import QuartersSpec, build_quarters, quarter_of, today_of
from merge import GIB, in_child

from kam.register import MergeSettings, merge
from kam.register.archive import archive_files
from kam.register.columns import REGISTER_FILENAME
from kam.register.limits import EXCEL_ROWS

_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def largest_sheet(path: Path) -> int:
    """The most rows (header included) of any sheet of a workbook, from its dimensions."""
    most = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                with z.open(name) as fh:
                    m = _DIMENSION.search(fh.read(4096))
                if m and m.group(1):
                    most = max(most, int(m.group(1)))
    return most


def ours(inbox: Path, register: Path, k: int) -> dict[str, Any]:
    start = time.perf_counter()
    result = merge(MergeSettings(register=register, inbox=inbox, today=today_of(k)))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "totals": result.totals}


def naive(files: list[Path], previous: Path | None, out: Path) -> dict[str, Any]:
    """The naive pipeline; it fails once its workbook passes Excel's limits (pandas refuses)."""
    start = time.perf_counter()
    try:
        rows = naive_merge(files, previous, out)
    except ValueError as exc:
        return {"seconds": None, "error": str(exc)}
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--branches", type=int, default=20)
    ap.add_argument("--customers", type=int, default=1000, help="customers per branch")
    ap.add_argument("--quarters", type=int, default=12)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kam-quarters-bench"))
    ap.add_argument("--skip-naive", action="store_true", help="time only our merge")
    ap.add_argument(
        "--naive-quarters", type=int, default=0,
        help="run the naive pipeline for the first K quarters only (it grows with all history)",
    )  # fmt: skip
    a = ap.parse_args()
    spec = QuartersSpec(a.branches, a.customers, a.quarters, a.seed)
    start = time.perf_counter()
    inboxes, reused = build_quarters(a.dir / "inbox", spec)
    how = "reused cached" if reused else f"generated in {time.perf_counter() - start:.0f} s"
    print(f"workload: {a.quarters} quarters x {a.branches} branches x {a.customers:,} customers "
          f"({how}: {a.dir / 'inbox'})")  # fmt: skip
    work = a.dir / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    register = work / REGISTER_FILENAME
    print(
        f"{'quarter':8} {'rows in':>9} {'dup':>7} {'ours s':>8} {'peak MiB':>9} "
        f"{'register MB':>12} {'archive MB':>11} {'max rows':>9} {'naive s':>8} {'naive/ours':>10}"
    )
    rows: list[dict[str, Any]] = []
    previous: Path | None = None
    for k, inbox in enumerate(inboxes):
        o = in_child(ours, inbox, register, k)
        peak = max(o["rss_self"], o["rss_children"])
        archived = sum(p.stat().st_size for ps in archive_files(register).values() for p in ps)
        most = max([largest_sheet(register)] + [
            largest_sheet(p) for ps in archive_files(register).values() for p in ps
        ])  # fmt: skip
        n = None
        naive_on = not a.skip_naive and (not a.naive_quarters or k < a.naive_quarters)
        if naive_on and (k == 0 or previous is not None):
            out = work / f"naive_{k:02d}.xlsx"
            n = in_child(naive, sorted(inbox.glob("*.xlsx")), previous, out)
            if previous is not None:
                previous.unlink()
            previous = out if n["seconds"] is not None else None
            if n["seconds"] is None:
                print(f"  naive failed: {n['error']} (no naive figures from here on)")
                n = None
        ratio = n["seconds"] / o["seconds"] if n else None
        row = {
            "quarter": quarter_of(k)[0], "rows_in": o["totals"]["rows_in"],
            "dup": o["totals"]["duplicate"],
            "seconds": o["seconds"], "peak": peak, "register": register.stat().st_size,
            "archive": archived, "most": most, "naive": n["seconds"] if n else None,
            "ratio": ratio,
        }  # fmt: skip
        rows.append(row)
        naive_s = f"{n['seconds']:.1f}" if n else "-"
        shown = f"{ratio:.1f}x" if ratio else "-"
        print(
            f"{row['quarter']:8} {row['rows_in']:>9,} {row['dup']:>7,} {row['seconds']:>8.1f} "
            f"{_mib(peak):>9} {row['register'] / 1e6:>12.1f} {archived / 1e6:>11.1f} "
            f"{most:>9,} {naive_s:>8} {shown:>10}",
            flush=True,
        )
    if len(rows) >= 2:
        growth = rows[-1]["seconds"] / rows[1]["seconds"]
        peak = max(r["peak"] for r in rows)
        most = max(r["most"] for r in rows)
        print(f"\nlast / second quarter time: {growth:.2f}x (target <= 1.3x)")
        print(f"peak memory: {_mib(peak)} MiB (target < {_mib(2 * GIB)} MiB)")
        print(f"largest sheet: {most:,} rows (limit {EXCEL_ROWS:,})")
        ratios = [r["ratio"] for r in rows if r["ratio"]]
        if ratios:
            print(f"naive / ours: min {min(ratios):.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
