"""Properties of the risk engine over random rosters, ledgers and logs (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_risk import AS_OF, A, B, C, contract, customer, days_ago, frame, report

from kam.forms import CONTRACTS, MAINTENANCE, RECEPTION, RISK, RISK_TYPE, ROSTER
from kam.risk import RiskInput, RiskResult, assess
from kam.rules import Rules

KEYS = (A, B, C)
RANK = {"无": 0, "低": 1, "中": 2, "高": 3}
UNITS = ("华东分公司", "华南分公司")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

key = st.sampled_from(KEYS)
ago = st.integers(-5, 500)
roster_rows = st.lists(
    st.builds(
        lambda k, tier, unit, strategic: customer(k, tier=tier, unit=unit, strategic=strategic),
        key,
        st.sampled_from(["集团级", "分公司级", "项目级", None]),
        st.sampled_from(UNITS),
        st.sampled_from(["是", "否"]),
    ),
    min_size=1,
    max_size=4,
)
contract_rows = st.lists(
    st.builds(
        lambda i, k, status, d: contract(f"HT-{i}", status, d, uscc=k),
        st.integers(0, 999),
        key,
        st.sampled_from(["逾期", "按时", "未到期"]),
        st.one_of(st.none(), st.integers(0, 200).map(float)),
    ),
    max_size=5,
)
reception_rows = st.lists(
    st.builds(
        lambda k, a, top: {"date": days_ago(a), "uscc": k, "top_level": top},
        key,
        ago,
        st.sampled_from(["是", "否"]),
    ),
    max_size=6,
)
maintenance_rows = st.lists(
    st.builds(
        lambda k, a, method, unit, closed, due: {
            "date": days_ago(a),
            "uscc": k,
            "method": method,
            "unit": unit,
            "summary": "走访",
            "closed": closed,
            "deadline": None if due is None else days_ago(due),
        },
        key,
        ago,
        st.sampled_from(["拜访", "高层互动", "电话"]),
        st.sampled_from(UNITS),
        st.sampled_from(["是", "否", None]),
        st.one_of(st.none(), st.integers(-30, 300)),
    ),
    max_size=6,
)
risk_rows = st.lists(
    st.builds(
        lambda k, kind, level, a: report(kind, level, days_ago(a), uscc=k),
        key,
        st.sampled_from(RISK_TYPE.values),
        st.sampled_from(["高", "中", "低"]),
        ago,
    ),
    max_size=4,
)


def assess_rows(rows: dict[str, list[dict[str, Any]]], as_of: dt.date = AS_OF) -> RiskResult:
    data = RiskInput(
        roster=frame(ROSTER, rows["roster"]),
        contracts=frame(CONTRACTS, rows["contracts"]),
        reception=frame(RECEPTION, rows["reception"]),
        maintenance=frame(MAINTENANCE, rows["maintenance"]),
        risk=frame(RISK, rows["risk"]),
    )
    return assess(data, as_of, Rules())


books = st.fixed_dictionaries(
    {
        "roster": roster_rows,
        "contracts": contract_rows,
        "reception": reception_rows,
        "maintenance": maintenance_rows,
        "risk": risk_rows,
    }
)


@SETTINGS
@given(books)
def test_level_is_the_max_of_the_reasons(rows: dict[str, list[dict[str, Any]]]) -> None:
    result = assess_rows(rows)
    customers = result.customers
    assert len(customers) == len(rows["roster"])
    total = 0
    for level, reasons in zip(customers["level"], customers["reasons"], strict=True):
        expected = max((RANK[r.level] for r in reasons), default=0)
        assert RANK[level] == expected
        assert len({r.rule for r in reasons}) == len(reasons)  # one reason per fired rule
        assert [RANK[r.level] for r in reasons] == sorted(
            (RANK[r.level] for r in reasons), reverse=True
        )
        total += len(reasons)
    assert len(result.hits) == total
    bankrupt = {
        r["uscc"]
        for r in rows["risk"]
        if r["risk_type"] == "破产征兆" and r["found_on"].date() <= AS_OF
    }
    assert set(result.bankrupt) == bankrupt & {r["uscc"] for r in rows["roster"]}


def no_contact(result: RiskResult) -> set[int]:
    return {
        row
        for row, reasons in result.customers["reasons"].items()
        if any(r.rule == "no_contact" for r in reasons)
    }


@SETTINGS
@given(books, st.sampled_from(["reception", "maintenance"]), st.integers(0, 10))
def test_removing_a_log_entry_never_lowers_no_contact(
    rows: dict[str, list[dict[str, Any]]], sheet: str, which: int
) -> None:
    before = no_contact(assess_rows(rows))
    log = rows[sheet]
    if not log:
        return
    fewer = {**rows, sheet: log[: which % len(log)] + log[which % len(log) + 1 :]}
    after = no_contact(assess_rows(fewer))
    assert before <= after


@SETTINGS
@given(books)
def test_no_contact_matches_a_plain_reading(rows: dict[str, list[dict[str, Any]]]) -> None:
    """no_contact fires exactly when no entry is dated as-of minus 90 days .. as-of."""
    since = AS_OF - dt.timedelta(days=90)
    contacted = {
        r["uscc"]
        for r in rows["reception"] + rows["maintenance"]
        if since <= r["date"].date() <= AS_OF
    }
    result = assess_rows(rows)
    expected = {row for row, k in result.customers["uscc"].items() if k not in contacted}
    assert no_contact(result) == expected
