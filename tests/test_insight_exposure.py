"""Exposure (DOMAIN §9.2) equals the sum of the 合同台账 rows it cites (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from insight_data import AS_OF, customer, day, deal, make_facts

from kam.insight.exposure import exposure_rows, exposures
from kam.register.columns import REG_BY_SOURCE
from kam.uscc import make_uscc

UNITS = ("华东分公司", "华南分公司", "西北分公司")
WINDOW_FROM = dt.date(2021, 9, 30)

contract = st.builds(
    lambda n, no, unit, q, ago, amount, late, days, rec: deal(
        n,
        no,
        unit,
        quarter=q,
        signed_on=day(AS_OF - dt.timedelta(days=ago)),
        amount=amount,
        pay_status="逾期" if late else "按时",
        overdue_days=days if late else None,
        receivable=rec,
    ),
    st.integers(1, 3),
    st.sampled_from(["HT-1", "HT-2", "HT-3"]),
    st.sampled_from(UNITS),
    st.sampled_from(["2026Q2", "2026Q3"]),
    st.integers(-10, 2500),
    st.floats(1, 50000, allow_nan=False).map(lambda x: round(x, 2)),
    st.booleans(),
    st.integers(1, 400),
    st.one_of(st.none(), st.floats(0, 9000, allow_nan=False).map(lambda x: round(x, 2))),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(contract, max_size=30))
def test_exposure_is_the_sum_of_the_rows_it_cites(deals: list[dict]) -> None:
    view = [customer(n, risk_level="高") for n in (1, 2, 3)]
    facts = make_facts(view, contracts=deals)
    ledger = pd.DataFrame(deals, columns=[f.id for f in REG_BY_SOURCE["contracts"].fields])
    found = exposures(facts)
    for n in (1, 2, 3):
        e = found[make_uscc(n)]
        cited = [deals[r - 2] for r in e.rows]  # sheet row r holds ledger row r - 2
        assert all(c["uscc"] == make_uscc(n) for c in cited)
        # Each (unit, contract no) once, from its latest quarter; nothing of the customer left out.
        mine = ledger[ledger["uscc"] == make_uscc(n)]
        assert len(cited) == len(mine.drop_duplicates(["source_unit", "contract_no"]))
        for c in cited:
            same = mine[
                (mine["source_unit"] == c["source_unit"])
                & (mine["contract_no"] == c["contract_no"])
            ]
            assert c["quarter"] == max(same["quarter"])
        late = [c for c in cited if c["pay_status"] == "逾期"]
        recent = [c for c in cited if WINDOW_FROM <= c["signed_on"].date() <= AS_OF]
        assert e.contracts == len(cited)
        assert e.receivable == round(sum(c["receivable"] or 0 for c in cited), 4)
        assert e.overdue_receivable == round(sum(c["receivable"] or 0 for c in late), 4)
        assert e.amount_5y == round(sum(c["amount"] for c in recent), 4)
        assert e.max_overdue_days == max((c["overdue_days"] for c in late), default=0)
        assert e.units == sorted({c["source_unit"] for c in cited})
        assert abs(sum(u["receivable"] for u in e.per_unit.values()) - e.receivable) < 1e-6
    table = exposure_rows(facts, found)
    receivables = list(table["receivable"])
    assert receivables == sorted(receivables, reverse=True)  # all 高: by 应收余额合计
