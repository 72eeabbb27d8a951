"""The sample quarter's data: the settings, a branch's working draft, and its clean rows.

Everything is drawn from a `random.Random` seeded from the settings, so a seed always
gives the same quarter. Mistakes (kam.sample.mistakes) and template drift
(kam.sample.drift) are applied afterwards to copies of these clean rows.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from kam.errors import UsageError
from kam.forms import INFO, TABLE_FORMS, TEMPLATE_VERSION, TIER, YES_NO
from kam.rules import DefaultTierProfile
from kam.sample import names
from kam.sample.names import City, Company, Registry

GROUP, BRANCH, PROJECT = TIER.values
YES, NO = YES_NO.values
PROFILE = DefaultTierProfile()
"""The default tier thresholds (DOMAIN §3) the generator aims its amounts at."""

Row = dict[str, object]


@dataclass(frozen=True)
class QuarterSettings:
    """What quarter to generate, how many branches, the seed, and whether to plant mistakes."""

    quarter: str = "2026Q3"
    branches: int = 8
    seed: int = 2026
    mistakes: bool = True
    today: dt.date = dt.date(2026, 10, 15)  # the submission date context for validation

    def __post_init__(self) -> None:
        quarter_end(self.quarter)  # raises UsageError on a bad quarter
        if not 1 <= self.branches <= len(names.BRANCHES):
            raise UsageError(f"分公司数量应为 1 至 {len(names.BRANCHES)}，而不是 {self.branches}")

    @property
    def as_of(self) -> dt.date:
        return quarter_end(self.quarter)

    @property
    def latest(self) -> dt.date:
        """The latest date a clean log entry may carry (not after as-of, not after today)."""
        return min(self.as_of, self.today)


@dataclass
class Mark:
    """A planted finding before row numbers are known: it points at the row object."""

    form: str
    row: Row | None  # None: the 报送信息 sheet (by field) or the whole sheet/column
    field: str | None
    rule: str
    value: object = None


@dataclass
class Draft:
    """One branch while it is generated: its rows, its marks, and what must stay untouched."""

    branch: str
    prefix: str
    cities: tuple[City, ...]
    settings: QuarterSettings
    registry: Registry
    info: Row
    rows: dict[str, list[Row]]
    companies: dict[str, Company] = field(default_factory=dict)  # uscc -> identity
    staff: list[tuple[str, str, str]] = field(default_factory=list)  # name, title, phone
    marks: list[Mark] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)  # id() of rows carrying a mark or an edit
    fixed: set[str] = field(default_factory=set)  # codes whose rows must stay as they are
    removed_sheets: list[str] = field(default_factory=list)  # form ids (a planted mistake)
    removed_columns: dict[str, list[str]] = field(default_factory=dict)  # form -> field ids

    def mark(self, form: str, row: Row | None, fid: str | None, rule: str) -> None:
        value = row.get(fid) if row is not None and fid is not None else None
        if form == INFO.id and fid is not None:
            value = self.info.get(fid)
        self.marks.append(Mark(form, row, fid, rule, value))
        if row is not None:
            self.busy.add(id(row))

    def contracts_of(self, code: str) -> list[Row]:
        return [c for c in self.rows["contracts"] if c["uscc"] == code]

    def next_contract_no(self, year: int) -> str:
        taken = {str(c["contract_no"]) for c in self.rows["contracts"]}
        n = 1
        while f"{self.prefix}-{year}-{n:03d}" in taken:
            n += 1
        return f"{self.prefix}-{year}-{n:03d}"


_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_end(quarter: str) -> dt.date:
    """The last day of a quarter written YYYYQn."""
    m = _QUARTER_RE.match(quarter)
    if m is None:
        raise UsageError(f"季度“{quarter}”格式不正确，应为如 2026Q3")
    year, q = int(m.group(1)), int(m.group(2))
    first_next = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return first_next - dt.timedelta(days=1)


def window_start(as_of: dt.date) -> dt.date:
    """as_of minus the window's years, same month and day (29 Feb becomes 28 Feb)."""
    year = as_of.year - PROFILE.window_years
    try:
        return as_of.replace(year=year)
    except ValueError:
        return as_of.replace(year=year, day=28)


@dataclass(frozen=True)
class Shared:
    """A group-level customer claimed by two branches (the merge's ownership conflict)."""

    company: Company
    code: str
    owner: str  # the 责任单位 both branches record
    branches: tuple[str, str]


def day_between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    """A random day from lo to hi (hi itself when the span is empty)."""
    if hi <= lo:
        return hi
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def _amount(rng: random.Random, lo: float, hi: float) -> float:
    value = rng.uniform(lo, hi)
    return float(round(value)) if rng.random() < 0.4 else round(value, 2)


def small_amount(rng: random.Random) -> float:
    """Below every tier bar: adding such a contract never changes a tier."""
    return _amount(rng, 150, 4900)


def _deal_amounts(rng: random.Random, target: str, strategic: str) -> list[float]:
    """Contract amounts whose window tier is exactly `target` (DOMAIN §3 bands)."""
    mid = (PROFILE.project_amount_ge, PROFILE.branch_amount_ge - 100)
    large = (PROFILE.branch_amount_ge, PROFILE.group_amount_gt - 100)
    huge = (PROFILE.group_amount_gt + 100, PROFILE.group_amount_gt * 3.4)
    bands: list[tuple[float, float]] = [(150, 4900)]
    if target == GROUP and strategic == NO:
        deciding = [_amount(rng, *huge), _amount(rng, *huge)]
        bands += [mid, large]
    elif target == GROUP:
        deciding, bands = [], [(150, 4900), mid, large, huge]
    elif target == BRANCH:
        deciding = [_amount(rng, *(huge if rng.random() < 0.15 else large))]
        bands += [mid]
    else:
        deciding = [_amount(rng, *mid)]
    extra = max(0, rng.randint(2, 6) - len(deciding))
    return deciding + [_amount(rng, *rng.choice(bands)) for _ in range(extra)]


def _pay(rng: random.Random, signed: dt.date, amount: float, as_of: dt.date) -> Row:
    if (as_of - signed).days < 180:
        status = "未到期" if rng.random() < 0.8 else "按时"
    else:
        status = rng.choices(["按时", "逾期", "未到期"], [75, 12, 13])[0]
    days: int | None = rng.randint(5, 240) if status == "逾期" else None
    if status != "逾期" and rng.random() < 0.08:
        days = 0
    share = {"按时": (0.0, 0.05), "逾期": (0.05, 0.3), "未到期": (0.1, 0.6)}[status]
    receivable = None if rng.random() < 0.1 else round(amount * rng.uniform(*share), 2)
    return {"pay_status": status, "overdue_days": days, "receivable": receivable}


def contract(
    rng: random.Random, code: str, co: Company, signed: dt.date, amount: float, as_of: dt.date
) -> Row:
    """A clean contract row without its number (numbered once the ledger is sorted)."""
    row: Row = {"uscc": code, "contract_no": None, "project": names.project(rng, co)}
    return row | {"signed_on": signed, "amount": amount} | _pay(rng, signed, amount, as_of)


def _contact(rng: random.Random, co: Company) -> tuple[str, str, str, str | None]:
    """A customer-side person: name, title, phone, e-mail (or None)."""
    person, handle = names.person(rng)
    titles = names.GOV_TITLES if co.nature in (names.GOV, names.INST) else names.CLIENT_TITLES
    phone = names.mobile(rng) if rng.random() < 0.75 else names.landline(rng, co.city)
    mail = (
        None
        if rng.random() < 0.2
        else names.email(rng, handle, names.domain(rng, co.city, co.nature))
    )
    return person, rng.choice(titles), phone, mail


def _card(rng: random.Random, code: str, co: Company, deals: list[Row]) -> Row:
    person, title, phone, mail = _contact(rng, co)
    years = [d.year for d in (c["signed_on"] for c in deals) if isinstance(d, dt.date)]
    since = min(years) if years else rng.randint(2018, 2024)
    return {
        "uscc": code,
        "address": names.address(rng, co.city),
        "business": co.business,
        "org_chain": rng.choice(names.ORG_CHAINS),
        "contact": person,
        "contact_title": title,
        "contact_phone": phone,
        "contact_email": mail,
        "history": f"{since} 年起合作，累计签约 {len(deals)} 份合同",
        "needs": rng.choice(names.NEEDS),
        "risks": rng.choice(names.RISK_NOTES),
    }


def _logs(rng: random.Random, d: Draft, code: str, co: Company, card: Row) -> None:
    """Reception and maintenance entries of one customer in the 12 months up to as-of."""
    latest = d.settings.latest
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        visitor, title = (card["contact"], card["contact_title"])
        if rng.random() < 0.4:
            visitor, title = names.person(rng)[0], rng.choice(names.CLIENT_TITLES)
        host = rng.choice(d.staff)
        top = title in names.TOP_TITLES or host[1] in ("副总经理", "总经济师")
        d.rows["reception"].append(
            {
                "date": day_between(rng, latest - dt.timedelta(days=330), latest),
                "uscc": code,
                "visitor": visitor,
                "visitor_title": title,
                "host": host[0],
                "host_title": host[1],
                "top_level": YES if top else NO,
                "purpose": rng.choice(names.PURPOSES),
                "result": rng.choice(names.RESULTS) if rng.random() < 0.85 else None,
            }
        )
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        method = rng.choices(list(names.SUMMARIES), [30, 25, 10, 8, 12, 8, 7])[0]
        day = day_between(rng, latest - dt.timedelta(days=360), latest)
        issue = rng.choice(names.ISSUES) if rng.random() < 0.5 else None
        deadline = day + dt.timedelta(days=rng.randint(7, 45)) if issue else None
        closed, closed_on = None, None
        if deadline is not None:
            closed = YES if deadline < latest and rng.random() < 0.75 else NO
            if closed == YES:
                closed_on = day_between(rng, day, min(deadline, latest))
        unit = names.HQ_UNIT if co.nature == names.SOE and rng.random() < 0.1 else d.branch
        d.rows["maintenance"].append(
            {
                "date": day,
                "uscc": code,
                "method": method,
                "unit": unit,
                "summary": rng.choice(names.SUMMARIES[method]),
                "issue": issue,
                "deadline": deadline,
                "owner": rng.choice(d.staff)[0],
                "closed": closed,
                "closed_on": closed_on,
            }
        )


def _risks(rng: random.Random, d: Draft) -> None:
    as_of, latest = d.settings.as_of, d.settings.latest
    start = dt.date(as_of.year, as_of.month - 2, 1)
    codes = [str(r["uscc"]) for r in d.rows["roster"]]
    for code in rng.sample(codes, min(len(codes), rng.randint(0, 5))):
        private = d.companies[code].nature == names.PRIVATE
        kinds = [k for k in names.RISK_TEXTS if k != "破产征兆" or private]
        kind = rng.choice(kinds)
        text, measures = names.RISK_TEXTS[kind]
        level = "高" if kind == "破产征兆" else rng.choice(["高", "中", "中", "低"])
        d.rows["risk"].append(
            {
                "uscc": code,
                "risk_type": kind,
                "level": level,
                "found_on": day_between(rng, start, latest),
                "description": text,
                "measures": measures,
                "reported": YES if level == "高" else rng.choice([YES, NO]),
            }
        )


def _customer(
    rng: random.Random, d: Draft, co: Company, code: str, target: str, strategic: str, unit: str
) -> tuple[Row, list[Row]]:
    """A roster row at `target` tier and its contracts (amounts aimed at that tier)."""
    as_of = d.settings.as_of
    start = window_start(as_of)
    owner = rng.choice(d.staff)
    first, last = start + dt.timedelta(days=15), as_of - dt.timedelta(days=1)
    deals = [
        contract(rng, code, co, day_between(rng, first, last), a, as_of)
        for a in _deal_amounts(rng, target, strategic)
    ]
    if rng.random() < 0.12:  # an older contract outside the window never counts
        old = start - dt.timedelta(days=rng.randint(20, 900))
        deals.append(contract(rng, code, co, old, _amount(rng, 150, 60000), as_of))
    remark = rng.choice(names.REMARKS) if rng.random() < 0.15 else None
    row: Row = {
        "name": co.name,
        "uscc": code,
        "nature": co.nature,
        "industry": co.industry if rng.random() < 0.9 else None,
        "tier": target,
        "unit": unit,
        "owner": owner[0],
        "owner_title": owner[1] if rng.random() < 0.9 else None,
        "phone": owner[2],
        "strategic": strategic,
        "listed_on": day_between(
            rng, as_of - dt.timedelta(days=6 * 365), as_of - dt.timedelta(days=20)
        ),
        "remark": remark,
    }
    return row, deals


Customers = list[tuple[Row, list[Row]]]
"""Each customer's roster row and its contracts, before the ledger is sorted and numbered."""


def start_branch(
    settings: QuarterSettings, index: int, registry: Registry, shared: list[Shared],
    rng: random.Random,
) -> tuple[Draft, Customers]:  # fmt: skip
    """A branch's staff and customers, each recorded at exactly the tier its contracts give."""
    name, prefix, city_names = names.BRANCHES[index]
    cities = tuple(names.CITIES[c] for c in city_names)
    d = Draft(name, prefix, cities, settings, registry, {}, {f.id: [] for f in TABLE_FORMS})
    titles = ["市场部经理", "副总经理", *(["大客户经理"] * 4)]
    d.staff = [(names.person(rng)[0], t, names.mobile(rng)) for t in titles[: rng.randint(4, 6)]]
    plans = [(s.company, s.code, GROUP, YES, s.owner) for s in shared if name in s.branches]
    d.fixed.update(s.code for s in shared if name in s.branches)
    others = [b[0] for b in names.BRANCHES[: settings.branches] if b[0] != name]
    for _ in range(rng.randint(15, 40) - len(plans)):
        co, code = registry.company(rng, rng.choice(cities))
        tiers = [(GROUP, YES), (GROUP, NO), (BRANCH, NO), (PROJECT, NO)]
        target, strategic = rng.choices(tiers, [7, 9, 34, 50])[0]
        unit = name
        if target == GROUP and others and rng.random() < 0.3:
            unit = rng.choice([names.HQ_UNIT, *others])
        plans.append((co, code, target, strategic, unit))
    customers = []
    for co, code, target, strategic, unit in plans:
        d.companies[code] = co
        customers.append(_customer(rng, d, co, code, target, strategic, unit))
    return d, customers


def finish_branch(rng: random.Random, d: Draft, customers: Customers) -> Draft:
    """The sorted, numbered ledger, the cards, the logs, the risk report and 报送信息."""
    customers.sort(key=lambda c: day(c[0]["listed_on"]))
    ledger = sorted((c for _, deals in customers for c in deals), key=lambda c: day(c["signed_on"]))
    for c in ledger:
        c["contract_no"] = d.next_contract_no(day(c["signed_on"]).year)
        d.rows["contracts"].append(c)
    for row, deals in customers:
        code = str(row["uscc"])
        d.rows["roster"].append(row)
        d.rows["cards"].append(card := _card(rng, code, d.companies[code], deals))
        _logs(rng, d, code, d.companies[code], card)
    d.rows["reception"].sort(key=lambda r: day(r["date"]))
    d.rows["maintenance"].sort(key=lambda r: day(r["date"]))
    _risks(rng, d)
    d.rows["risk"].sort(key=lambda r: day(r["found_on"]))
    submitted = d.settings.as_of + dt.timedelta(days=rng.randint(3, 12))
    d.info = {
        "unit": d.branch, "quarter": d.settings.quarter, "filler": d.staff[0][0],
        "phone": names.landline(rng, d.cities[0]),
        "submitted_on": min(d.settings.today, submitted), "version": TEMPLATE_VERSION,
    }  # fmt: skip
    return d


def row_index(rows: list[Row], row: Row) -> int:
    """Position of a row object (rows are compared by identity, not by value)."""
    return next(i for i, r in enumerate(rows) if r is row)


def day(value: object) -> dt.date:
    """A generated date value (the clean rows hold real dates)."""
    assert isinstance(value, dt.date)
    return value
