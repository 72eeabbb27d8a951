"""Seeded merge-benchmark inbox: N branches x two quarters (Q2, Q3) of M rows per file.

Each file spreads its rows over the six table sheets like a real branch file (per customer
about 1 roster row, 1 card, 3 contracts, 0.8 receptions, 1.3 maintenance entries), with
believable Chinese names (kam.sample.names), valid USCCs, dates before the quarter end and
amounts across the tier bands. Q3 keeps most Q2 customers and contracts (some leave, some
join, a few recorded tiers change), so merging Q3 into the Q2 register exercises changes,
contract de-duplication across quarters and ownership. Pairs of branches share one 集团级
customer (a conflict). Every file carries a few bad rows: two exact duplicate contracts,
a reception row with a wrong check digit and a maintenance row with no 内容摘要.

The inbox is cached: a manifest records the parameters and a rerun with the same ones
reuses the files.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from kam.forms import TEMPLATE_VERSION
from kam.sample import names
from kam.sample.names import Company
from kam.template import Layout, write_submission
from kam.uscc import uscc_check_char

GENERATOR_VERSION = 1
QUARTERS = (("2026Q2", dt.date(2026, 6, 30)), ("2026Q3", dt.date(2026, 9, 30)))
SUFFIXES = ("分公司", "工程公司", "建设公司", "城建公司")
ROWS_PER_CUSTOMER = 7.3  # roster + card + ~3.2 contracts + ~0.8 receptions + ~1.3 maintenance
BAD_ROWS = 4  # per file: 2 duplicate contracts, 1 bad check digit, 1 missing required value
Row = dict[str, object]


@dataclass(frozen=True)
class InboxSpec:
    """How many files and rows, and the seed; the manifest of a cached inbox."""

    files: int
    rows: int
    seed: int = 2026
    version: int = GENERATOR_VERSION


def branch_names(n: int) -> list[str]:
    """n distinct branch names (city + kind of company)."""
    cities = list(names.CITIES)
    out = [f"{city}{suffix}" for suffix in SUFFIXES for city in cities]
    if n > len(out):
        out += [f"第{i:03d}分公司" for i in range(n - len(out))]
    return out[:n]


def _code(rng: random.Random, co: Company, taken: set[str]) -> str:
    while True:
        code17 = (
            co.dept
            + co.city.code
            + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        )
        code = code17 + uscc_check_char(code17)
        if code not in taken:
            taken.add(code)
            return code


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.datetime:
    d = lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))
    return dt.datetime(d.year, d.month, d.day)


def _amount(rng: random.Random) -> float:
    band = rng.choices(((150, 4900), (5000, 9900), (10000, 19900), (20100, 68000)), (45, 30, 18, 7))
    value = rng.uniform(*band[0])
    return float(round(value)) if rng.random() < 0.4 else round(value, 2)


@dataclass
class _Customer:
    co: Company
    code: str
    roster: Row
    card: Row


class _Branch:
    """One branch's customers and ledger, evolved from Q2 to Q3."""

    def __init__(self, index: int, branch: str, spec: InboxSpec, shared: list[_Customer]) -> None:
        self.rng = random.Random(spec.seed * 100_003 + index)
        self.index, self.branch, self.spec = index, branch, spec
        self.city_list = list(names.CITIES.values())
        self.cities = self.rng.sample(self.city_list, 4)
        self.staff = [(names.person(self.rng)[0], names.mobile(self.rng)) for _ in range(6)]
        self.taken: set[str] = set()
        self.seq = 0
        n = max(3, round(spec.rows / ROWS_PER_CUSTOMER))
        self.customers = [self._customer() for _ in range(n)]
        self.customers[: len(shared)] = shared
        self.contracts: list[Row] = []

    def _customer(self) -> _Customer:
        rng = self.rng
        co = names.company(rng, rng.choice(self.cities))
        code = _code(rng, co, self.taken)
        owner, phone = rng.choice(self.staff)
        roster: Row = {
            "name": co.name,
            "uscc": code,
            "nature": co.nature,
            "industry": co.industry,
            "tier": None,
            "unit": self.branch,
            "owner": owner,
            "owner_title": "大客户经理",
            "phone": phone,
            "strategic": "是" if rng.random() < 0.04 else "否",
            "listed_on": _day(rng, dt.date(2020, 1, 1), dt.date(2026, 3, 31)),
            "remark": rng.choice(names.REMARKS) if rng.random() < 0.15 else None,
        }
        person, _ = names.person(rng)
        card: Row = {
            "uscc": code,
            "address": names.address(rng, co.city),
            "business": co.business,
            "org_chain": rng.choice(names.ORG_CHAINS),
            "contact": person,
            "contact_title": rng.choice(names.CLIENT_TITLES),
            "contact_phone": names.mobile(rng),
            "contact_email": None,
            "history": "多年合作",
            "needs": rng.choice(names.NEEDS),
            "risks": rng.choice(names.RISK_NOTES),
        }
        return _Customer(co, code, roster, card)

    def _contract(self, c: _Customer, lo: dt.date, hi: dt.date, as_of: dt.date) -> Row:
        rng = self.rng
        self.seq += 1
        signed = _day(rng, lo, hi)
        status = rng.choices(("按时", "逾期", "未到期"), (70, 12, 18))[0]
        amount = _amount(rng)
        return {
            "uscc": c.code,
            "contract_no": f"B{self.index:03d}-{signed.year}-{self.seq:05d}",
            "project": names.project(rng, c.co),
            "signed_on": signed,
            "amount": amount,
            "pay_status": status,
            "overdue_days": rng.randint(5, 240) if status == "逾期" else None,
            "receivable": round(amount * rng.uniform(0, 0.3), 2),
        }

    def _logs(self, customers: list[_Customer], as_of: dt.date) -> dict[str, list[Row]]:
        rng = self.rng
        start = as_of - dt.timedelta(days=360)
        reception, maintenance, risk = [], [], []
        for c in customers:
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                host, _ = rng.choice(self.staff)
                reception.append(
                    {
                        "date": _day(rng, start, as_of),
                        "uscc": c.code,
                        "visitor": c.card["contact"],
                        "visitor_title": c.card["contact_title"],
                        "host": host,
                        "host_title": "副总经理",
                        "top_level": rng.choice(("是", "否", "否")),
                        "purpose": rng.choice(names.PURPOSES),
                        "result": rng.choice(names.RESULTS),
                    }
                )
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2))):
                method = rng.choice(list(names.SUMMARIES))
                day = _day(rng, start, as_of)
                closed = rng.random() < 0.7
                maintenance.append(
                    {
                        "date": day,
                        "uscc": c.code,
                        "method": method,
                        "unit": self.branch,
                        "summary": rng.choice(names.SUMMARIES[method]),
                        "issue": rng.choice(names.ISSUES),
                        "deadline": day + dt.timedelta(days=30),
                        "owner": rng.choice(self.staff)[0],
                        "closed": "是" if closed else "否",
                        "closed_on": day + dt.timedelta(days=10) if closed else None,
                    }
                )
        for c in rng.sample(customers, max(1, len(customers) // 25)):
            kind = rng.choice(list(names.RISK_TEXTS))
            text, measures = names.RISK_TEXTS[kind]
            risk.append(
                {
                    "uscc": c.code,
                    "risk_type": kind,
                    "level": rng.choice(("高", "中", "低")),
                    "found_on": _day(rng, as_of - dt.timedelta(days=80), as_of),
                    "description": text,
                    "measures": measures,
                    "reported": "是",
                }
            )
        return {"reception": reception, "maintenance": maintenance, "risk": risk}

    def quarter(self, q: int) -> tuple[Row, dict[str, list[Row]]]:
        """The 报送信息 and rows of quarter q (0 = Q2, 1 = Q3), exactly spec.rows rows."""
        rng = self.rng
        quarter, as_of = QUARTERS[q]
        n = len(self.customers)
        if q == 0:
            customers = self.customers
        else:  # 2% leave, 2% join; recorded tiers are set again below
            gone = set(rng.sample(range(2, n), max(1, n // 50)))
            customers = [c for i, c in enumerate(self.customers) if i not in gone]
            customers += [self._customer() for _ in range(len(gone))]
        rows = {"cards": [c.card for c in customers], **self._logs(customers, as_of)}
        budget = self.spec.rows - BAD_ROWS - len(customers) - sum(len(v) for v in rows.values())
        lo = dt.date(2021, 7, 1) if q == 0 else QUARTERS[0][1] + dt.timedelta(days=1)
        kept = [r for r in self.contracts if r["uscc"] in {c.code for c in customers}]
        while len(kept) < budget:
            kept.append(self._contract(rng.choice(customers), lo, as_of, as_of))
        self.contracts = kept[: max(0, budget)]
        rows["roster"] = _recorded_tiers(rng, customers, self.contracts)
        contracts = [dict(r) for r in self.contracts]
        contracts += [dict(contracts[i]) for i in (0, len(contracts) // 2)]  # exact duplicates
        rows["contracts"] = contracts
        bad = dict(rows["reception"][0])
        bad["uscc"] = str(bad["uscc"])[:-1] + ("0" if str(bad["uscc"])[-1] != "0" else "1")
        rows["reception"] = [*rows["reception"], bad]
        rows["maintenance"] = [*rows["maintenance"], {**rows["maintenance"][0], "summary": None}]
        return self.info(quarter, as_of), rows

    def info(self, quarter: str, as_of: dt.date) -> Row:
        """The 报送信息 sheet of the branch's file for `quarter`, sent ten days after it ends."""
        return {
            "unit": self.branch,
            "quarter": quarter,
            "filler": self.staff[0][0],
            "phone": names.landline(self.rng, self.cities[0]),
            "submitted_on": dt.datetime.combine(as_of + dt.timedelta(days=10), dt.time()),
            "version": TEMPLATE_VERSION,
        }


def _recorded_tiers(rng: random.Random, customers: list[_Customer], deals: list[Row]) -> list[Row]:
    """Roster rows whose recorded tier mostly matches the contracts (a few differ)."""
    amounts: dict[object, list[float]] = {}
    for d in deals:
        amounts.setdefault(d["uscc"], []).append(float(d["amount"]))  # type: ignore[arg-type]
    out = []
    for c in customers:
        a = amounts.get(c.code, [])
        if c.roster["strategic"] == "是" or sum(x > 20000 for x in a) >= 2:
            tier = "集团级"
        elif any(x >= 10000 for x in a):
            tier = "分公司级"
        else:
            tier = "项目级"
        if rng.random() < 0.05:
            tier = rng.choice(("集团级", "分公司级", "项目级"))
        if c.roster["unit"] == names.HQ_UNIT:  # another unit's customer: only 集团级 allowed
            tier = "集团级"
        c.roster = {**c.roster, "tier": tier}
        out.append(c.roster)
    return out


def _shared(spec: InboxSpec, pair: int) -> list[_Customer]:
    """The 集团级 customer two neighbouring branches both claim (same code, same record)."""
    rng = random.Random(spec.seed * 7 + pair)
    co = names.company(rng, rng.choice(list(names.CITIES.values())))
    code = _code(rng, co, set())
    roster: Row = {
        "name": co.name,
        "uscc": code,
        "nature": co.nature,
        "industry": co.industry,
        "tier": "集团级",
        "unit": names.HQ_UNIT,
        "owner": "王敏",
        "owner_title": "总经理",
        "phone": "13812345678",
        "strategic": "是",
        "listed_on": dt.datetime(2022, 5, 1 + pair % 28),
        "remark": "集团统筹维护",
    }
    card: Row = {
        "uscc": code,
        "address": names.address(rng, co.city),
        "business": co.business,
        "contact": "张伟",
        "contact_title": "总经理",
        "contact_phone": "13912345678",
    }
    return [_Customer(co, code, roster, card)]


def _write_branch(job: tuple[int, str, InboxSpec, Path]) -> int:
    index, branch, spec, root = job
    b = _Branch(index, branch, spec, _shared(spec, index // 2))
    layout = Layout(data_rows=0)
    total = 0
    for q, (quarter, _) in enumerate(QUARTERS):
        info, rows = b.quarter(q)
        total += sum(len(v) for v in rows.values())
        write_submission(root / quarter / f"{branch}_{quarter}.xlsx", info, rows, layout=layout)
    return total


def build_inbox(root: Path, spec: InboxSpec, workers: int = 2) -> tuple[dict[str, Path], bool]:
    """The per-quarter inbox folders under root; (folders, reused) where reused = cached."""
    folders = {q: root / q for q, _ in QUARTERS}
    manifest = root / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == asdict(spec):
        return folders, True
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    manifest.unlink(missing_ok=True)
    jobs = [(i, b, spec, root) for i, b in enumerate(branch_names(spec.files))]
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(_write_branch, jobs, chunksize=1)
    manifest.write_text(json.dumps(asdict(spec)))
    return folders, False
