"""What makes the group-insight figures meaningful in the sample quarter (DOMAIN §9).

Planted after the mistakes, on rows the mistakes never touch, with their own random stream:
one private customer with contracts in three branches, one of its contracts long overdue,
a 破产征兆 report from the clean branch, exactly one high-level contact in 12 months (it is
集团级, so few_top_contacts fires) and an issue past its 响应时限 that is still open. The
other measures already have misses in the quarter: a branch below 98% 档案完整率 (the
completeness mistakes), a late submission (_late_submission).
"""

from __future__ import annotations

import datetime as dt
import random

from kam.sample import names
from kam.sample.quarter import GROUP, YES, Draft, _card, contract, day_between

NO = "否"


def plant_insight(rng: random.Random, drafts: list[Draft], clean: int) -> str | None:
    """Add the three-branch bankruptcy customer; returns its USCC (None: too few branches)."""
    others = [
        d
        for i, d in enumerate(drafts)
        if i != clean
        and not d.removed_columns
        and "contracts" not in d.removed_sheets
        and "roster" not in d.removed_sheets
    ]
    if len(others) < 2:
        return None
    home = drafts[clean]
    units = [home, *rng.sample(others, 2)]
    registry = home.registry
    while True:
        co, code = registry.company(rng, rng.choice(home.cities))
        if co.nature == names.PRIVATE:
            break
    as_of = home.settings.as_of
    latest = home.settings.latest
    for n, d in enumerate(units):
        d.companies[code] = co
        d.fixed.add(code)
        owner = rng.choice(d.staff)
        deals = [
            contract(
                rng,
                code,
                co,
                day_between(rng, as_of - dt.timedelta(days=1400), as_of - dt.timedelta(days=200)),
                round(rng.uniform(3000, 9000), 2),
                as_of,
            )
            for _ in range(2 if n == 0 else 1)
        ]
        if n == 1:  # the long-overdue receivable the notice asks about
            deals[0] |= {"pay_status": "逾期", "overdue_days": 128, "receivable": 1860.5}
        for c in deals:
            c["contract_no"] = d.next_contract_no(c["signed_on"].year)  # type: ignore[union-attr]
            d.rows["contracts"].append(c)
        roster = {
            "name": co.name, "uscc": code, "nature": co.nature, "industry": co.industry,
            "tier": GROUP, "unit": home.branch, "owner": owner[0], "owner_title": owner[1],
            "phone": owner[2], "strategic": YES,
            "listed_on": as_of - dt.timedelta(days=700), "remark": None,
        }  # fmt: skip
        d.rows["roster"].append(roster)
        d.rows["cards"].append(card := _card(rng, code, co, deals))
        card["contact_email"] = None  # optional field; keeps the card free of email findings
        d.busy.update(id(r) for r in (roster, card, *deals))
    _home_logs(rng, home, code, latest)
    return code


def _home_logs(rng: random.Random, d: Draft, code: str, latest: dt.date) -> None:
    """One high-level reception, an overdue open issue, and the 破产征兆 report."""
    boss = next((s for s in d.staff if s[1] == "副总经理"), d.staff[0])
    kind = "破产征兆"
    text, measures = names.RISK_TEXTS[kind]
    rows = {
        "reception": {
            "date": latest - dt.timedelta(days=150), "uscc": code, "visitor": "董事长",
            "visitor_title": "董事长", "host": boss[0], "host_title": boss[1],
            "top_level": YES, "purpose": rng.choice(names.PURPOSES), "result": None,
        },
        "maintenance": {
            "date": latest - dt.timedelta(days=60), "uscc": code, "method": "电话",
            "unit": d.branch, "summary": rng.choice(names.SUMMARIES["电话"]),
            "issue": "客户要求延期支付工程款", "deadline": latest - dt.timedelta(days=30),
            "owner": d.staff[-1][0], "closed": NO, "closed_on": None,
        },
        "risk": {
            "uscc": code, "risk_type": kind, "level": "高",
            "found_on": latest - dt.timedelta(days=20), "description": text,
            "measures": measures, "reported": YES,
        },
    }  # fmt: skip
    for form, row in rows.items():
        d.rows[form].append(row)
        d.busy.add(id(row))
