"""The 考核 measures (DOMAIN §9.1), each at its boundary on hand-made register rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from insight_data import AS_OF, Q_START, card, customer, day, deal, maint, make_facts, source

from kam.insight.kpi import EXPECTED, NO_DATA, scorecard
from kam.rules import Rules

EAST, SOUTH = "华东分公司", "华南分公司"


def measures(facts, branch: str = EAST) -> dict:  # type: ignore[no-untyped-def]
    card_ = scorecard(facts)
    return dict(card_.branches)[branch]


def test_completeness_at_98_percent_and_a_missing_card_counts_as_empty() -> None:
    n = 50  # 50 customers x 9 expected fields = 450; 98% of it is 441
    view = [customer(i) for i in range(1, n + 1)]
    at_bar = [card(i, empty=(9 if i == 1 else 0)) for i in range(1, n + 1)]
    m = measures(make_facts(view, cards=at_bar))["completeness"]
    assert (m.numerator, m.denominator, m.met) == (441, 450, True)
    # No card at all for customer 1 is the same as its 9 fields empty...
    m = measures(make_facts(view, cards=at_bar[1:]))["completeness"]
    assert (m.numerator, m.denominator, m.met) == (441, 450, True)
    # ...and one more empty field misses the target.
    below = [*at_bar[:1], card(2, empty=1), *at_bar[2:]]
    m = measures(make_facts(view, cards=below))["completeness"]
    assert (m.numerator, m.denominator, m.met) == (440, 450, False)
    assert m.value == pytest.approx(440 / 450)
    assert len(EXPECTED) == 9


def test_completeness_uses_the_latest_card_of_a_customer() -> None:
    view = [customer(1)]
    old = card(1, empty=9, quarter="2026Q2")
    new = card(1, empty=0)
    m = measures(make_facts(view, cards=[new, old]))["completeness"]
    assert (m.numerator, m.denominator) == (9, 9)


def test_error_rate_at_five_percent_and_no_file_is_no_data() -> None:
    ok = make_facts([customer(1)], sources=[source(EAST, rows_in=100, rejected=5)])
    m = measures(ok)["error_rate"]
    assert (m.value, m.numerator, m.denominator, m.met) == (0.05, 5, 100, True)
    bad = make_facts([customer(1)], sources=[source(EAST, rows_in=100, rejected=6)])
    assert measures(bad)["error_rate"].met is False
    none = measures(make_facts([customer(1)], branches=(EAST,)))
    assert none["error_rate"].value == NO_DATA and none["error_rate"].met is None
    assert none["status"].value == "未报送" and none["on_time"].met is False


def test_on_time_is_the_deadline_day_inclusive() -> None:
    last = AS_OF + dt.timedelta(days=15)
    on = make_facts([customer(1)], sources=[source(EAST, submitted_on=day(last))])
    m = measures(on)["on_time"]
    assert (m.value, m.numerator, m.denominator, m.met) == ("是", "2026-10-15", "2026-10-15", True)
    late = make_facts(
        [customer(1)], sources=[source(EAST, submitted_on=day(last + dt.timedelta(days=1)))]
    )
    assert measures(late)["on_time"].value == "否"
    unreadable = make_facts([customer(1)], sources=[source(EAST, status="rejected")])
    m = measures(unreadable)
    assert m["status"].value == "报送文件无法读取" and m["on_time"].value == NO_DATA


def test_issue_closure_counts_issues_due_by_as_of_only() -> None:
    due = day(AS_OF)
    rows = [maint(1, issue="要求", deadline=due, closed="是", closed_on=due) for _ in range(19)]
    rows.append(maint(1, issue="要求", deadline=due, closed="否"))
    rows.append(maint(1, issue="要求", deadline=day(AS_OF + dt.timedelta(days=1)), closed="否"))
    rows.append(maint(1, issue=None, deadline=due, closed="否"))  # no issue: not counted
    rows.append(maint(1, issue="要求", deadline=due, closed="否", quarter="2026Q2"))
    m = measures(make_facts([customer(1)], maintenance=rows))["issue_closure"]
    assert (m.numerator, m.denominator, m.met) == (19, 20, True)
    rows[0] = maint(1, issue="要求", deadline=due, closed="否")
    m = measures(make_facts([customer(1)], maintenance=rows))["issue_closure"]
    assert (m.numerator, m.denominator, m.met) == (18, 20, False)


def test_response_on_time_closed_on_the_deadline_is_in_time() -> None:
    due = dt.date(2026, 8, 1)
    rows = [maint(1, deadline=day(due), closed="是", closed_on=day(due)) for _ in range(9)]
    rows.append(maint(1, deadline=day(due), closed="是", closed_on=day(due + dt.timedelta(1))))
    rows.append(maint(1, deadline=None, closed="是", closed_on=day(due)))  # no deadline
    m = measures(make_facts([customer(1)], maintenance=rows))["response_on_time"]
    assert (m.numerator, m.denominator, m.met) == (9, 10, True)
    rows[0] = maint(1, deadline=day(due), closed="是", closed_on=day(due + dt.timedelta(2)))
    assert measures(make_facts([customer(1)], maintenance=rows))["response_on_time"].met is False


def test_top_contact_coverage_counts_recorded_and_computed_group_customers() -> None:
    view = [
        customer(1, tier="集团级"),
        customer(2, calc_tier="集团级"),
        customer(3),  # not 集团级: not counted
    ]
    few = [{"uscc": view[1]["uscc"], "rule": "few_top_contacts", "risk_level": "中"}]
    m = measures(make_facts(view, risks=few))["top_contact_coverage"]
    assert (m.numerator, m.denominator, m.met) == (1, 2, False)
    m = measures(make_facts(view))["top_contact_coverage"]
    assert (m.value, m.numerator, m.denominator, m.met) == (1.0, 2, 2, True)
    m = measures(make_facts([customer(3)]))["top_contact_coverage"]
    assert (m.value, m.met) == (NO_DATA, None)


def test_new_and_lost_customers_against_the_previous_quarter() -> None:
    view = [
        customer(1, listed_on=day(Q_START)),  # first day of the quarter: new
        customer(2, listed_on=day(Q_START - dt.timedelta(days=1))),  # day before: not new
        customer(3, quarter="2026Q2"),  # the branch sent a roster without it: lost
        customer(4, unit=SOUTH, source_unit=SOUTH, quarter="2026Q2"),  # SOUTH sent nothing
    ]
    facts = make_facts(view, sources=[source(EAST)])
    east, south = measures(facts), measures(facts, SOUTH)
    assert (east["new_customers"].value, east["lost_customers"].value) == (1, 1)
    assert (south["new_customers"].value, south["lost_customers"].value) == (0, 0)
    assert (east["customers"].value, south["customers"].value) == (3, 1)


def test_new_contract_amount_and_its_change_on_the_quarter_before() -> None:
    deals = [
        deal(1, "A", signed_on=day(Q_START), amount=300.0),
        deal(1, "B", signed_on=day(AS_OF), amount=200.0),
        deal(1, "C", signed_on=day(Q_START - dt.timedelta(days=1)), amount=400.0),
        deal(1, "D", signed_on=day(dt.date(2026, 4, 1)), amount=100.0),
        deal(1, "E", signed_on=day(dt.date(2026, 3, 31)), amount=999.0),  # two quarters ago
        deal(1, "A", signed_on=day(Q_START), amount=300.0, quarter="2026Q2"),  # same contract
    ]
    m = measures(make_facts([customer(1)], contracts=deals))
    assert (m["new_contract_amount"].value, m["new_contract_amount"].numerator) == (500.0, 2)
    qoq = m["new_contract_amount_qoq"]
    assert (qoq.numerator, qoq.denominator, qoq.value) == (0.0, 500.0, 0.0)
    none = measures(make_facts([customer(1)], contracts=deals[:2]))["new_contract_amount_qoq"]
    assert none.value == NO_DATA


def test_high_risk_follows_the_manual_level() -> None:
    view = [
        customer(1, risk_level="高"),
        customer(2, risk_level="高", manual_risk="低"),
        customer(3, risk_level="中", manual_risk="高"),
    ]
    assert measures(make_facts(view))["high_risk_customers"].value == 2


def test_targets_come_from_the_rules_file() -> None:
    rules = Rules.model_validate({"kpi": {"completeness_min": 0.5, "deadline_days": 40}})
    view = [customer(1)]
    late = source(EAST, submitted_on=day(AS_OF + dt.timedelta(days=30)))
    m = measures(make_facts(view, cards=[card(1, empty=4)], sources=[late], rules=rules))
    assert m["completeness"].target == 0.5 and m["completeness"].met is True
    assert m["on_time"].value == "是"


def test_owner_table_and_group_totals() -> None:
    view = [customer(1, owner="甲"), customer(2, owner="乙"), customer(3, unit=SOUTH, owner="甲")]
    cards = [card(1), card(2, empty=9), card(3)]
    sc = scorecard(make_facts(view, cards=cards))
    owners = {k: v for k, v in sc.owners}
    assert owners[(EAST, "乙")]["completeness"].numerator == 0
    assert owners[(SOUTH, "甲")]["completeness"].denominator == 9
    assert "error_rate" not in owners[(EAST, "甲")]  # file measures are per branch only
    g = sc.group["completeness"]
    assert (g.numerator, g.denominator) == (18, 27)
    doc = sc.to_json()
    assert doc["branches"][0]["completeness"].keys() == {
        "value",
        "numerator",
        "denominator",
        "target",
        "met",
    }


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
flags = st.sampled_from(["是", "否", None])
offsets = st.one_of(st.none(), st.integers(-60, 60))


@SETTINGS
@given(
    st.lists(st.tuples(st.booleans(), offsets, flags, offsets), max_size=25),
    st.lists(st.integers(0, 9), max_size=8),
)
def test_ratios_are_in_0_1_or_no_data_exactly_when_the_denominator_is_zero(
    logs: list[tuple[bool, int | None, str | None, int | None]], empties: list[int]
) -> None:
    rows = [
        maint(
            1,
            issue="问题" if issue else None,
            deadline=None if due is None else day(AS_OF + dt.timedelta(days=due)),
            closed=closed,
            closed_on=None if done is None else day(AS_OF + dt.timedelta(days=done)),
        )
        for issue, due, closed, done in logs
    ]
    view = [customer(i, tier="集团级") for i in range(1, len(empties) + 1)]
    cards = [card(i, empty=e) for i, e in enumerate(empties, start=1)]
    sc = scorecard(make_facts(view or [customer(99)], cards=cards, maintenance=rows))
    for _branch, ms in [*sc.branches, ("", sc.group)]:
        for key in ("completeness", "issue_closure", "response_on_time", "top_contact_coverage"):
            m = ms[key]
            if m.denominator:
                assert 0 <= m.value <= 1 and m.value == m.numerator / m.denominator
                assert m.met in (True, False)
            else:
                assert m.value == NO_DATA and m.met is None


def test_an_owner_is_credited_with_contracts_of_their_customers_whoever_signed() -> None:
    view = [customer(1, owner="甲")]
    deals = [deal(1, "A", SOUTH, signed_on=day(Q_START), amount=70.0)]
    sc = scorecard(make_facts(view, contracts=deals))
    owners = dict(sc.owners)
    assert owners[(EAST, "甲")]["new_contract_amount"].value == 70.0
    assert dict(sc.branches)[SOUTH]["new_contract_amount"].value == 70.0  # signed by 华南
