"""Merge benchmark, the consolidation issue's workload: 100 branch files of 3,000 rows each
(spread over the six table sheets), merged into a new register (2026Q2), then the next
quarter's 100 files merged into that register (2026Q3, the issue's "previous register").

Run: python benchmarks/merge.py [--files N] [--rows M] [--dir DIR] [--naive-files K]
                                [--profile] [--skip-baselines]

The generated inbox is cached in DIR (default /tmp/kam-merge-bench): a rerun with the same
--files/--rows/--seed reuses it. Every pipeline runs in its own forked child process, one
after the other, and is timed there; for each merge the script prints, measured in the same
run:
  1. ours: kam.register.merge with MergeSettings, end to end, with its phases;
  2. naive: the pandas + openpyxl pipeline of benchmarks/_baselines.py (read_excel per
     file, concat, drop_duplicates, to_excel), chained on its own previous workbook;
  3. floor: python-calamine raw read of the same inputs + xlsxwriter raw write of every
     row read;
then throughput, peak memory (ru_maxrss, see below), both ratios and the targets:
ours >= 5x faster than naive and <= 1.5x the floor (judged on the 2026Q3 merge), peak
memory < 2 GiB. With --naive-files K < N the naive pipeline reads only the first K files
of each quarter and its time is scaled by N/K (the output says so).

Peak memory is getrusage().ru_maxrss: RUSAGE_SELF of the child running the merge, and
RUSAGE_CHILDREN there, i.e. the largest of the reading processes the merge forks (a forked
reader's RSS counts the pages it shares with the merge process, so the two overlap).
--profile runs the 2026Q3 merge once more under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import multiprocessing as mp
import pstats
import resource
import shutil
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import python_calamine as calamine
from _baselines import floor_merge, naive_merge
from _inbox import QUARTERS, InboxSpec, build_inbox

from kam.register import MergeSettings, merge
from kam.register.columns import REGISTER_FILENAME
from kam.register.merge import Step

TODAY = dt.date(2026, 10, 20)
GIB = 2**30
TARGET_NAIVE, TARGET_FLOOR, TARGET_MEMORY = 5.0, 1.5, 2 * GIB
Q2, Q3 = (q for q, _ in QUARTERS)


def in_child(job: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run job(*args) in a forked child; its result plus the child's peak RSS (bytes)."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def main() -> None:
        out = job(*args)
        out["rss_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out["rss_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        send.send(out)

    proc = ctx.Process(target=main)
    proc.start()
    send.close()
    try:
        out = recv.recv()
    except EOFError as exc:
        raise SystemExit(f"benchmark child failed (exit code {proc.exitcode})") from exc
    proc.join()
    return out


def count_rows(path: Path) -> int:
    """Data rows of every sheet of a workbook (headers excluded)."""
    book = calamine.load_workbook(str(path))
    return sum(max(0, len(book.get_sheet_by_name(n).to_python()) - 1) for n in book.sheet_names)


def ours(inbox: Path, register: Path, profile: Path | None = None) -> dict[str, Any]:
    """kam.register.merge, timed by phase from its own progress messages."""
    marks: list[tuple[str, float]] = [("读取现有名录", time.perf_counter())]

    def progress(step: Step) -> None:
        if step.reading and step.done == 0:
            marks.append(("读取并校验全部文件", time.perf_counter()))
        elif not step.reading:
            marks.append((step.text.split(" ")[0].rstrip("，"), time.perf_counter()))

    settings = MergeSettings(register=register, inbox=inbox, today=TODAY)
    prof = cProfile.Profile() if profile else None
    start = time.perf_counter()
    result = prof.runcall(merge, settings, progress) if prof else merge(settings, progress)
    end = time.perf_counter()
    if prof is not None and profile is not None:
        prof.dump_stats(str(profile))
    marks.append(("end", end))
    phases = [(name, b - a) for (name, a), (_, b) in pairwise(marks)]
    return {
        "seconds": end - start,
        "phases": phases,
        "totals": result.totals,
        "conflicts": len(result.conflicts),
        "written_rows": count_rows(register),
    }


def naive(files: list[Path], previous: Path | None, out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    rows = naive_merge(files, previous, out)
    return {"seconds": time.perf_counter() - start, "written_rows": rows}


def floor(files: list[Path], previous: Path | None, out: Path) -> dict[str, Any]:
    start = time.perf_counter()
    rows, read_s = floor_merge(files, previous, out)
    total = time.perf_counter() - start
    return {"seconds": total, "read": read_s, "write": total - read_s, "written_rows": rows}


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(
    title: str, rows_in: int, old_rows: int, o: dict, n: dict | None, f: dict | None, scale: float
) -> tuple[float | None, float | None]:
    """Print one merge's three pipelines and ratios; returns (naive/ours, ours/floor)."""
    print(f"\n{title}")
    handled = rows_in + old_rows
    print(f"  input: {rows_in:,} rows in the inbox files + {old_rows:,} rows in the old register")
    t = o["totals"]
    print(
        f"  ours   {o['seconds']:8.2f} s  {rows_in / o['seconds']:9,.0f} inbox rows/s  "
        f"{handled / o['seconds']:9,.0f} rows handled/s  wrote {o['written_rows']:,} rows"
    )
    for name, secs in o["phases"]:
        print(f"           {secs:8.2f} s  {name}")
    print(
        f"           totals {t}, {o['conflicts']} conflicts; peak RSS merge process "
        f"{_mib(o['rss_self'])}, largest reader child {_mib(o['rss_children'])}"
    )
    ratio_naive = ratio_floor = None
    if n is not None:
        secs = n["seconds"] * scale
        how = f" (measured {n['seconds']:.1f} s on 1/{scale:g} of the files, x{scale:g})"
        print(
            f"  naive  {secs:8.2f} s  {rows_in / secs:9,.0f} inbox rows/s  "
            f"wrote {n['written_rows'] * scale:,.0f} rows{how if scale != 1 else ''}; "
            f"peak RSS {_mib(n['rss_self'])}"
        )
        ratio_naive = secs / o["seconds"]
    if f is not None:
        print(
            f"  floor  {f['seconds']:8.2f} s  {rows_in / f['seconds']:9,.0f} inbox rows/s  "
            f"(raw read {f['read']:.2f} s + raw write {f['write']:.2f} s of "
            f"{f['written_rows']:,} rows)"
        )
        ratio_floor = o["seconds"] / f["seconds"]
    if ratio_naive is not None:
        print(f"  naive / ours = {ratio_naive:5.2f}x faster (target >= {TARGET_NAIVE:g}x)")
    if ratio_floor is not None:
        print(f"  ours / floor = {ratio_floor:5.2f}x the floor (target <= {TARGET_FLOOR:g}x)")
    return ratio_naive, ratio_floor


def _verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def print_profile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    stats.strip_dirs()
    for key in ("cumulative", "tottime"):
        print(f"\n--- cProfile of the {Q3} merge, top {top} by {key} ---")
        stats.sort_stats(key).print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100, help="branch files per quarter")
    ap.add_argument("--rows", type=int, default=3000, help="data rows per file")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kam-merge-bench"))
    ap.add_argument("--naive-files", type=int, default=0, help="time naive on K files, scale")
    ap.add_argument("--skip-baselines", action="store_true", help="time only our merge")
    ap.add_argument("--profile", action="store_true", help="cProfile the Q3 merge afterwards")
    ap.add_argument("--top", type=int, default=30, help="profile lines to print")
    a = ap.parse_args()
    spec = InboxSpec(files=a.files, rows=a.rows, seed=a.seed)
    start = time.perf_counter()
    inboxes, reused = build_inbox(a.dir / "inbox", spec)
    how = "reused cached" if reused else f"generated in {time.perf_counter() - start:.1f} s"
    print(f"workload: {a.files} files x {a.rows:,} rows per quarter ({how}: {a.dir / 'inbox'})")
    files = {q: sorted(inboxes[q].glob("*.xlsx")) for q in inboxes}
    k = min(a.naive_files or a.files, a.files)
    scale = a.files / k
    out = a.dir / "run"
    shutil.rmtree(out, ignore_errors=True)
    (out / "reg").mkdir(parents=True)
    register = out / "reg" / REGISTER_FILENAME
    rows_in = {q: a.files * a.rows for q in inboxes}

    first = in_child(ours, inboxes[Q2], register)
    q2_register = out / f"register_{Q2}.xlsx"
    shutil.copy2(register, q2_register)
    second = in_child(ours, inboxes[Q3], register)
    n1 = n2 = f1 = f2 = None
    if not a.skip_baselines:
        n1 = in_child(naive, files[Q2][:k], None, out / f"naive_{Q2}.xlsx")
        n2 = in_child(naive, files[Q3][:k], out / f"naive_{Q2}.xlsx", out / f"naive_{Q3}.xlsx")
        f1 = in_child(floor, files[Q2], None, out / f"floor_{Q2}.xlsx")
        f2 = in_child(floor, files[Q3], q2_register, out / f"floor_{Q3}.xlsx")
    report(f"merge 1: {Q2} files -> new register", rows_in[Q2], 0, first, n1, f1, scale)
    old_rows = first["written_rows"]
    r_naive, r_floor = report(
        f"merge 2 (the issue's workload): {Q3} files -> the {Q2} register",
        rows_in[Q3],
        old_rows,
        second,
        n2,
        f2,
        scale,
    )
    peak = max(second["rss_self"], first["rss_self"])
    print(f"\ntargets (merge 2, {a.files} files x {a.rows:,} rows + previous register):")
    if r_naive is not None and r_floor is not None:
        met_naive, met_floor = r_naive >= TARGET_NAIVE, r_floor <= TARGET_FLOOR
        print(
            f"  ours >= {TARGET_NAIVE:g}x faster than naive: {r_naive:5.2f}x  {_verdict(met_naive)}"
        )
        print(
            f"  ours <= {TARGET_FLOOR:g}x the floor:        {r_floor:5.2f}x  {_verdict(met_floor)}"
        )
    met_memory = peak < TARGET_MEMORY
    print(f"  peak memory < 2 GiB (ru_maxrss): {_mib(peak)}  {_verdict(met_memory)}")
    if a.profile:
        prof_register = out / "profile" / REGISTER_FILENAME
        prof_register.parent.mkdir()
        shutil.copy2(q2_register, prof_register)
        prof = out / f"merge_{Q3}.prof"
        p = in_child(ours, inboxes[Q3], prof_register, prof)
        print(f"\nprofiled {Q3} merge: {p['seconds']:.2f} s under cProfile; stats in {prof}")
        print_profile(prof, a.top)


if __name__ == "__main__":
    main()
