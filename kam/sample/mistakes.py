"""Planted mistakes: each one fires exactly one rule at one cell, and nothing else moves.

Isolation rules the planters follow:
- a mistake goes on a row nothing else touches (`Draft.busy`), of a customer whose rows
  must otherwise stay clean (`Draft.fixed` keeps tier examples and shared customers out);
- a wrong contract is an extra small contract (below every tier bar), so its customer's
  computed tier is the same whether or not a rule engine counts rows with errors;
- a malformed roster code belongs to a strategic 集团级 customer with no other rows, so no
  tier, reference or card finding can follow from it;
- tiers are never planted by hand: `tier_marks` compares each recorded tier with
  `expected_tier`, computed here independently of the product's tier engine.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Mapping

from kam.forms import UNMET_TIER
from kam.sample import names
from kam.sample.quarter import (
    BRANCH,
    GROUP,
    NO,
    PROFILE,
    PROJECT,
    YES,
    Customers,
    Draft,
    Row,
    contract,
    day,
    day_between,
    row_index,
    small_amount,
    window_start,
)

TIER_RANK = {UNMET_TIER: 0, PROJECT: 1, BRANCH: 2, GROUP: 3}
BAD_NATURE = "私营企业"  # not one of the 客户性质 choices (民营企业 is)
BAD_METHOD = "走访"  # not one of the 维护方式 choices (拜访 is)
BAD_DATE = "2024-13-45"
PENDING = "待定"  # text in the amount column


def expected_tier(
    contracts: Iterable[Mapping[str, object]], strategic: object, as_of: dt.date
) -> str:
    """DOMAIN §3 on raw rows; a value that is not a date or a number never counts."""
    if strategic == YES:
        return GROUP
    start = window_start(as_of)
    amounts = []
    for c in contracts:
        day, amount = c.get("signed_on"), c.get("amount")
        if isinstance(day, dt.date) and isinstance(amount, int | float) and start <= day <= as_of:
            amounts.append(float(amount))
    if sum(a > PROFILE.group_amount_gt for a in amounts) >= PROFILE.group_min_count:
        return GROUP
    if any(a >= PROFILE.branch_amount_ge for a in amounts):
        return BRANCH
    if any(a >= PROFILE.project_amount_ge for a in amounts):
        return PROJECT
    return UNMET_TIER


def tier_marks(d: Draft) -> None:
    """Mark every roster row whose recorded tier differs from the computed one."""
    for row in d.rows["roster"]:
        computed = expected_tier(
            d.contracts_of(str(row["uscc"])), row["strategic"], d.settings.as_of
        )
        recorded = TIER_RANK.get(str(row["tier"]))
        if recorded is None or recorded == TIER_RANK[computed]:
            continue
        d.mark(
            "roster",
            row,
            "tier",
            "tier_unsupported" if recorded > TIER_RANK[computed] else "tier_upgrade",
        )


def edge_cases(rng: random.Random, d: Draft, customers: Customers) -> None:
    """Correct data at the tier boundaries and formula look-alikes: none may be flagged.

    A contract signed on the window's first day counts, one signed the day before does
    not; exactly 20000 is not "> 20000"; exactly 10000 and 5000 reach their bands; "+86 …"
    is a phone and "-5%" a number, not formulas.
    """
    as_of = d.settings.as_of
    start = window_start(as_of)
    free = [c for c in customers if c[0]["uscc"] not in d.fixed and c[0]["strategic"] == NO]
    branch = [c for c in free if c[0]["tier"] == BRANCH]
    project = [c for c in free if c[0]["tier"] == PROJECT]
    if len(branch) < 3 or len(project) < 2 or len(free) < 7:
        return
    branch[0][1][0]["signed_on"] = start
    code = str(project[0][0]["uscc"])
    before = start - dt.timedelta(days=1)
    project[0][1].append(contract(rng, code, d.companies[code], before, 15000.0, as_of))
    deals = branch[1][1]
    deals[0]["amount"] = 20000.0
    deals.append(dict(deals[0], signed_on=day_between(rng, start, as_of)))
    branch[2][1][0]["amount"] = 10000.0
    project[1][1][0]["amount"] = 5000.0
    used = [c[0] for c in (*branch[:3], *project[:2])]
    rest = [c[0] for c in free if all(c[0] is not u for u in used)]
    rest[0]["phone"] = "+86 " + str(rest[0]["phone"])
    rest[1]["remark"] = "-5%"
    d.fixed.update(str(r["uscc"]) for r in (*used, *rest[:2]))


# --- helpers ---------------------------------------------------------------------------


def _free(d: Draft, form: str, ok: Callable[[Row], bool] = lambda r: True) -> list[Row]:
    return [
        r
        for r in d.rows[form]
        if id(r) not in d.busy and str(r.get("uscc")) not in d.fixed and ok(r)
    ]


def _pick(
    rng: random.Random, d: Draft, form: str, ok: Callable[[Row], bool] = lambda r: True
) -> Row | None:
    rows = _free(d, form, ok)
    return rng.choice(rows) if rows else None


def _insert(rng: random.Random, d: Draft, form: str, row: Row, after: int = -1) -> None:
    rows = d.rows[form]
    rows.insert(rng.randint(after + 1, len(rows)), row)


def _own(d: Draft) -> Callable[[Row], bool]:
    """Roster rows at 分公司级 or 项目级 owned by this branch, not strategic."""
    return lambda r: (
        r["tier"] in (BRANCH, PROJECT) and r["unit"] == d.branch and r["strategic"] == NO
    )


def _new_contract(rng: random.Random, d: Draft, **values: object) -> Row | None:
    """An extra small, clean contract of a free customer, with `values` overriding."""
    customer = _pick(rng, d, "roster")
    if customer is None:
        return None
    code = str(customer["uscc"])
    as_of = d.settings.as_of
    signed = day_between(
        rng, window_start(as_of) + dt.timedelta(days=30), as_of - dt.timedelta(days=200)
    )
    row = contract(rng, code, d.companies[code], signed, small_amount(rng), as_of)
    row.update(pay_status="按时", overdue_days=None, contract_no=d.next_contract_no(signed.year))
    row.update(values)
    _insert(rng, d, "contracts", row)
    return row


def _set(rng: random.Random, d: Draft, form: str, fid: str, value: object, rule: str,
         ok: Callable[[Row], bool] = lambda r: True) -> bool:  # fmt: skip
    """Change one field of a free row of `form` and mark it."""
    if form in d.removed_sheets:
        return False
    row = _pick(rng, d, form, ok)
    if row is None:
        return False
    row[fid] = value
    d.mark(form, row, fid, rule)
    return True


def _bad_code_customer(
    rng: random.Random, d: Draft, spoil: Callable[[str], str], rule: str
) -> bool:
    """A strategic 集团级 customer with no other rows whose code is spoiled."""
    co, code = d.registry.company(rng, rng.choice(d.cities))
    owner = rng.choice(d.staff)
    row: Row = {
        "name": co.name, "uscc": spoil(code), "nature": co.nature, "industry": co.industry,
        "tier": GROUP, "unit": d.branch, "owner": owner[0], "owner_title": owner[1],
        "phone": owner[2], "strategic": YES,
        "listed_on": day_between(rng, d.settings.as_of - dt.timedelta(days=400), d.settings.as_of),
        "remark": None,
    }  # fmt: skip
    _insert(rng, d, "roster", row)
    d.companies[str(row["uscc"])] = co
    d.fixed.add(str(row["uscc"]))
    d.mark("roster", row, "uscc", rule)
    return True


# --- planters: each plants one mistake in one branch, or returns False if it cannot -------


def _missing_sheet(rng: random.Random, d: Draft) -> bool:
    """The branch deleted 接待登记表 (so it has no reception rows at all)."""
    if any(m.form == "reception" for m in d.marks) or d.removed_columns:
        return False
    d.removed_sheets.append("reception")
    d.rows["reception"] = []
    d.mark("reception", None, None, "missing_sheet")
    return True


def _missing_column(rng: random.Random, d: Draft) -> bool:
    """The branch deleted the required 项目名称 column of 合同台账."""
    if d.removed_sheets:
        return False
    d.removed_columns["contracts"] = ["project"]
    d.mark("contracts", None, "project", "missing_column")
    return True


def _late_submission(rng: random.Random, d: Draft) -> bool:
    d.info["submitted_on"] = d.settings.today + dt.timedelta(days=rng.randint(5, 20))
    d.mark("info", None, "submitted_on", "date_future")
    return True


def _duplicate_customer(rng: random.Random, d: Draft) -> bool:
    """The same customer entered twice (same code, same tier): one duplicate_key."""
    row = _pick(rng, d, "roster")
    if row is None:
        return False
    copy = dict(row, listed_on=d.settings.as_of - dt.timedelta(days=rng.randint(5, 60)))
    d.busy.add(id(row))
    d.fixed.add(str(row["uscc"]))
    _insert(rng, d, "roster", copy, after=row_index(d.rows["roster"], row))
    d.mark("roster", copy, "uscc", "duplicate_key")
    return True


def _duplicate_contract_no(rng: random.Random, d: Draft) -> bool:
    first = _pick(rng, d, "contracts")
    new = _new_contract(rng, d)
    if first is None or new is None:
        return False
    d.rows["contracts"].remove(new)
    new["contract_no"] = first["contract_no"]
    d.busy.add(id(first))
    _insert(rng, d, "contracts", new, after=row_index(d.rows["contracts"], first))
    d.mark("contracts", new, "contract_no", "duplicate_key")
    return True


def _contract(
    fid: str, value: Callable[[random.Random, Draft], object], rule: str, **extra: object
) -> Planter:
    def plant(rng: random.Random, d: Draft) -> bool:
        row = _new_contract(rng, d, **{fid: value(rng, d)}, **extra)
        if row is None:
            return False
        d.mark("contracts", row, fid, rule)
        return True

    return plant


def _unknown_code(rng: random.Random, d: Draft) -> str:
    return d.registry.company(rng, rng.choice(d.cities))[1]


def _retier(tier: str, change: Callable[[random.Random, Draft, Row], None]) -> Planter:
    """Make a customer's recorded tier disagree with its contracts, which stay clean."""

    def plant(rng: random.Random, d: Draft) -> bool:
        def clean(r: Row) -> bool:
            deals = d.contracts_of(str(r["uscc"]))
            return _own(d)(r) and r["tier"] == tier and all(id(c) not in d.busy for c in deals)

        row = _pick(rng, d, "roster", clean)
        if row is None:
            return False
        change(rng, d, row)
        d.fixed.add(str(row["uscc"]))
        d.busy.add(id(row))
        return True

    return plant


def _below_bar(rng: random.Random, d: Draft, row: Row) -> None:
    """Every contract of the customer below 5000 (computed 未达标)."""
    for c in d.contracts_of(str(row["uscc"])):
        if isinstance(c["amount"], float) and c["amount"] >= PROFILE.project_amount_ge:
            c["amount"] = small_amount(rng)


def _closed_before_opened(rng: random.Random, d: Draft) -> bool:
    """A maintenance entry closed a few days before it was opened."""
    row = None if "maintenance" in d.removed_sheets else _pick(rng, d, "maintenance")
    if row is None:
        return False
    row["closed"] = YES
    row["closed_on"] = day(row["date"]) - dt.timedelta(days=rng.randint(2, 10))
    d.mark("maintenance", row, "closed_on", "date_order")
    return True


def _other_unit(rng: random.Random, d: Draft) -> str:
    return rng.choice([b[0] for b in names.BRANCHES if b[0] != d.branch])


def _next_char(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % len(alphabet)]


Planter = Callable[[random.Random, Draft], bool]
PLANTERS: tuple[Planter, ...] = (
    _missing_sheet,
    _missing_column,
    _late_submission,
    lambda rng, d: _set(rng, d, "roster", "owner", None, "required"),
    lambda rng, d: _set(rng, d, "roster", "nature", BAD_NATURE, "enum"),
    lambda rng, d: _set(rng, d, "roster", "phone", names.mobile(rng)[:10], "phone"),
    lambda rng, d: _set(rng, d, "roster", "unit", _other_unit(rng, d), "branch_mismatch", _own(d)),
    lambda rng, d: _set(rng, d, "roster", "remark", "=SUM(1,2)", "formula_in_data"),
    lambda rng, d: _bad_code_customer(rng, d, lambda c: c[:17], "uscc_format"),
    lambda rng, d: _bad_code_customer(rng, d, lambda c: c[:10] + "O" + c[11:], "uscc_format"),
    lambda rng, d: _bad_code_customer(rng, d, _next_char, "uscc_checksum"),
    _duplicate_customer,
    _duplicate_contract_no,
    _contract("signed_on", lambda rng, d: BAD_DATE, "type"),
    _contract("amount", lambda rng, d: PENDING, "type"),
    _contract(
        "signed_on",
        lambda rng, d: d.settings.as_of + dt.timedelta(days=rng.randint(20, 75)),
        "date_future",
    ),
    _contract("amount", lambda rng, d: 0.0, "amount_range"),
    _contract("amount", lambda rng, d: -small_amount(rng), "amount_range"),
    _contract("uscc", _unknown_code, "unknown_customer"),
    _contract("overdue_days", lambda rng, d: None, "overdue_days", pay_status="逾期"),
    _contract("overdue_days", lambda rng, d: 0, "overdue_days", pay_status="逾期"),
    _contract("overdue_days", lambda rng, d: 30, "overdue_days", pay_status="按时"),
    lambda rng, d: _set(rng, d, "cards", "business", None, "completeness"),
    lambda rng, d: _set(rng, d, "cards", "risks", None, "completeness"),
    lambda rng, d: _set(rng, d, "cards", "contact_email", "zhang@@example", "email"),
    lambda rng, d: _set(rng, d, "cards", "contact_phone", names.mobile(rng)[:10], "phone"),
    lambda rng, d: _set(rng, d, "reception", "host", None, "required"),
    lambda rng, d: _set(rng, d, "reception", "result", "@张总 已确认方案", "formula_in_data"),
    lambda rng, d: _set(rng, d, "maintenance", "method", BAD_METHOD, "enum"),
    _closed_before_opened,
    # recorded above computed: 集团级 without the contracts; 项目级 with all below 5000
    _retier(BRANCH, lambda rng, d, row: row.update(tier=GROUP)),
    _retier(PROJECT, _below_bar),
    # recorded below computed: 分公司级 recorded 项目级; a strategic agreement (集团级)
    _retier(BRANCH, lambda rng, d, row: row.update(tier=PROJECT)),
    _retier(BRANCH, lambda rng, d, row: row.update(strategic=YES)),
)


def plant_mistakes(rng: random.Random, drafts: list[Draft]) -> None:
    """Spread every planter over the branches, round robin, skipping where it cannot go."""
    if not drafts:
        return
    order = list(drafts)
    rng.shuffle(order)
    turn = 0
    for planter in PLANTERS:
        for step in range(len(order)):
            if planter(rng, order[(turn + step) % len(order)]):
                turn += step + 1
                break
