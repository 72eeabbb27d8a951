"""Seeded inboxes of successive quarters: each branch's full state plus the quarter's events.

Every quarter each branch sends its whole roster, cards and contract ledger (2% of the
customers leave and as many join; about 0.25 new contracts per customer per quarter, the
contracts of customers who left go with them) and the events of that quarter only: about
0.8 receptions and 1.3 maintenance entries per customer and a risk report for 4% of them.
Maintenance entries left open in a quarter are filed again, closed, in the next one (an
update of the stored entry, not a new event). Dates stay inside the quarter.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from _inbox import InboxSpec, Row, _Branch, _day, _recorded_tiers, branch_names

from kam.sample import names
from kam.template import Layout, write_submission

GENERATOR_VERSION = 1
FIRST_YEAR = 2024


@dataclass(frozen=True)
class QuartersSpec:
    """How many branches, customers per branch and quarters; the manifest of a cached run."""

    branches: int
    customers: int
    quarters: int
    seed: int = 2026
    version: int = GENERATOR_VERSION


def quarter_of(k: int) -> tuple[str, dt.date, dt.date]:
    """Quarter number k (0 = 2024Q1): its name, first and last day."""
    year, q = FIRST_YEAR + k // 4, k % 4 + 1
    first = dt.date(year, 3 * q - 2, 1)
    last = (dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)) - dt.timedelta(1)
    return f"{year}Q{q}", first, last


def today_of(k: int) -> dt.date:
    """The day the quarter is merged: 20 days after its end."""
    return quarter_of(k)[2] + dt.timedelta(days=20)


class _History(_Branch):
    """One branch over the quarters."""

    def __init__(self, index: int, branch: str, spec: QuartersSpec) -> None:
        rows = round(spec.customers * 7.3)
        super().__init__(index, branch, InboxSpec(1, rows, spec.seed), [])
        self.open: list[Row] = []

    def quarter(self, k: int) -> tuple[Row, dict[str, list[Row]]]:  # type: ignore[override]
        rng = self.rng
        name, first, last = quarter_of(k)
        if k:
            n = len(self.customers)
            gone = set(rng.sample(range(n), max(1, n // 50)))
            self.customers = [c for i, c in enumerate(self.customers) if i not in gone]
            self.customers += [self._customer() for _ in range(len(gone))]
        codes = {c.code for c in self.customers}
        self.contracts = [r for r in self.contracts if r["uscc"] in codes]
        lo = dt.date(2019, 1, 1) if k == 0 else first
        new = round(len(self.customers) * (3.0 if k == 0 else 0.25))
        self.contracts += [
            self._contract(rng.choice(self.customers), lo, last, last) for _ in range(new)
        ]
        rows: dict[str, list[Row]] = {
            "cards": [c.card for c in self.customers],
            "roster": _recorded_tiers(rng, self.customers, self.contracts),
            "contracts": [dict(r) for r in self.contracts],
            **self._events(first, last),
        }
        return self.info(name, last), rows

    def _events(self, first: dt.date, last: dt.date) -> dict[str, list[Row]]:
        rng = self.rng
        reception, risk = [], []
        here = {c.code for c in self.customers}
        closed_now = [
            {**r, "closed": "是", "closed_on": _day(rng, first, last)}
            for r in self.open
            if r["uscc"] in here
        ]
        maintenance: list[Row] = list(closed_now)
        self.open = []
        for c in self.customers:
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                reception.append(
                    {
                        "date": _day(rng, first, last),
                        "uscc": c.code,
                        "visitor": c.card["contact"],
                        "visitor_title": c.card["contact_title"],
                        "host": rng.choice(self.staff)[0],
                        "host_title": "副总经理",
                        "top_level": rng.choice(("是", "否", "否")),
                        "purpose": rng.choice(names.PURPOSES),
                        "result": rng.choice(names.RESULTS),
                    }
                )
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2))):
                method = rng.choice(list(names.SUMMARIES))
                day = _day(rng, first, last)
                closed = rng.random() < 0.7 or day.date() > last - dt.timedelta(days=3)
                row: Row = {
                    "date": day,
                    "uscc": c.code,
                    "method": method,
                    "unit": self.branch,
                    "summary": rng.choice(names.SUMMARIES[method]),
                    "issue": rng.choice(names.ISSUES),
                    "deadline": day + dt.timedelta(days=30),
                    "owner": rng.choice(self.staff)[0],
                    "closed": "是" if closed else "否",
                    "closed_on": _day(rng, day.date(), last) if closed else None,
                }
                maintenance.append(row)
                if not closed:
                    self.open.append(row)
        for c in rng.sample(self.customers, max(1, len(self.customers) // 25)):
            kind = rng.choice([k for k in names.RISK_TEXTS if k != "破产征兆"])
            text, measures = names.RISK_TEXTS[kind]
            risk.append(
                {
                    "uscc": c.code,
                    "risk_type": kind,
                    "level": rng.choice(("高", "中", "低")),
                    "found_on": _day(rng, first, last),
                    "description": text,
                    "measures": measures,
                    "reported": "是",
                }
            )
        return {"reception": reception, "maintenance": maintenance, "risk": risk}


def _write_branch(job: tuple[int, str, QuartersSpec, Path]) -> int:
    index, branch, spec, root = job
    h = _History(index, branch, spec)
    layout = Layout(data_rows=0)
    total = 0
    for k in range(spec.quarters):
        info, rows = h.quarter(k)
        total += sum(len(v) for v in rows.values())
        name = quarter_of(k)[0]
        write_submission(root / name / f"{branch}_{name}.xlsx", info, rows, layout=layout)
    return total


def build_quarters(root: Path, spec: QuartersSpec, workers: int = 2) -> tuple[list[Path], bool]:
    """The per-quarter inbox folders under root, oldest first; (folders, reused from cache)."""
    folders = [root / quarter_of(k)[0] for k in range(spec.quarters)]
    manifest = root / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == asdict(spec):
        return folders, True
    shutil.rmtree(root, ignore_errors=True)
    for folder in folders:
        folder.mkdir(parents=True)
    jobs = [(i, b, spec, root) for i, b in enumerate(branch_names(spec.branches))]
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(_write_branch, jobs, chunksize=1)
    manifest.write_text(json.dumps(asdict(spec)))
    return folders, False
