"""The risk rules of DOMAIN §4 at their boundaries, on frames typed like the reader's."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kam.errors import RulesFileError
from kam.forms import CONTRACTS, MAINTENANCE, RECEPTION, RISK, ROSTER, Form, Kind
from kam.risk import RiskInput, RiskResult, assess, risk_input, risk_json
from kam.rules import RiskRules, Rules, load_rules
from kam.uscc import make_uscc

AS_OF = dt.date(2026, 9, 30)
A, B, C = (make_uscc(random.Random(seed)) for seed in (1, 2, 3))
UNIT = "华东分公司"
RULES = Rules()


def frame(form: Form, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows typed like kam.reader's frames: sheet row numbers, dates, floats, text."""
    cols: dict[str, pd.Series] = {}
    index = pd.RangeIndex(2, 2 + len(rows))
    for f in form.data_fields:
        values = [r.get(f.id) for r in rows]
        if f.kind is Kind.DATE:
            cols[f.id] = pd.Series(pd.to_datetime(values), index=index, dtype="datetime64[ns]")
        elif f.kind in (Kind.NUMBER, Kind.INTEGER):
            cols[f.id] = pd.Series(values, index=index, dtype=float)
        else:
            cols[f.id] = pd.Series(values, index=index, dtype=object)
    return pd.DataFrame(cols, index=index)


def customer(uscc: str = A, **over: Any) -> dict[str, Any]:
    row = {"name": f"客户{uscc[-4:]}", "uscc": uscc, "tier": "项目级", "unit": UNIT}
    row.update(strategic="否", listed_on=dt.datetime(2024, 1, 1))
    row.update(over)
    return row


def days_ago(n: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time()) - dt.timedelta(days=n)


def visit(uscc: str = A, ago: int = 10, top: str = "否") -> dict[str, Any]:
    return {"date": days_ago(ago), "uscc": uscc, "visitor": "张总", "top_level": top}


def upkeep(uscc: str = A, ago: int = 10, **over: Any) -> dict[str, Any]:
    row = {"date": days_ago(ago), "uscc": uscc, "method": "拜访", "unit": UNIT}
    row.update(summary="例行走访", owner="李强", **over)
    return row


def contract(no: str, status: str, days: float | None, uscc: str = A) -> dict[str, Any]:
    row = {"uscc": uscc, "contract_no": no, "signed_on": dt.datetime(2025, 1, 1)}
    row.update(amount=100.0, pay_status=status, overdue_days=days)
    return row


def report(kind: str, level: str, found: dt.datetime, uscc: str = A, desc: str = "") -> dict:
    return {"uscc": uscc, "risk_type": kind, "level": level, "found_on": found, "description": desc}


def run(
    roster: Sequence[Mapping[str, Any]] = (),
    contracts: Sequence[Mapping[str, Any]] = (),
    reception: Sequence[Mapping[str, Any]] | None = None,
    maintenance: Sequence[Mapping[str, Any]] = (),
    risk: Sequence[Mapping[str, Any]] = (),
    *,
    as_of: dt.date = AS_OF,
    rules: Rules = RULES,
    tiers: Sequence[str] | None = None,
) -> RiskResult:
    """Assess; by default every customer had an ordinary visit 10 days ago (no no_contact)."""
    roster = list(roster) or [customer()]
    if reception is None:
        reception = [visit(r["uscc"]) for r in roster]
    data = RiskInput(
        roster=frame(ROSTER, roster),
        contracts=frame(CONTRACTS, contracts),
        reception=frame(RECEPTION, reception),
        maintenance=frame(MAINTENANCE, maintenance),
        risk=frame(RISK, risk),
        tiers=None
        if tiers is None
        else pd.Series(list(tiers), index=pd.RangeIndex(2, 2 + len(roster))),
    )
    return assess(data, as_of, rules)


def fired(result: RiskResult, row: int = 2) -> dict[str, str]:
    """rule -> level of one roster row's reasons."""
    return {r.rule: r.level for r in result.customers.at[row, "reasons"]}


def detail(result: RiskResult, rule: str, row: int = 2) -> str:
    return next(r.detail for r in result.customers.at[row, "reasons"] if r.rule == rule)


def test_quiet_customer_has_no_risk() -> None:
    result = run()
    assert result.customers.at[2, "level"] == "无"
    assert result.customers.at[2, "reasons"] == []
    assert result.hits.empty
    assert result.bankrupt == []


@pytest.mark.parametrize(
    ("status", "days", "level"),
    [
        ("逾期", 0, None),
        ("逾期", None, None),
        ("逾期", 1, "低"),
        ("逾期", 30, "低"),
        ("逾期", 31, "中"),
        ("逾期", 90, "中"),
        ("逾期", 91, "高"),
        ("逾期", 1234567, "高"),
        ("按时", 120, None),
    ],
)
def test_overdue_payment_bands(status: str, days: float | None, level: str | None) -> None:
    result = run(contracts=[contract("HT-2021-005", status, days)])
    assert fired(result).get("overdue_payment") == level
    if level:
        assert detail(result, "overdue_payment") == f"合同 HT-2021-005 逾期 {days} 天"


def test_overdue_payment_takes_the_worst_contract_and_names_the_cells() -> None:
    rows = [
        contract("HT-1", "逾期", 20),
        contract("HT-2", "逾期", 120),
        contract("HT-3", "按时", 0),
    ]
    result = run(contracts=rows)
    assert fired(result) == {"overdue_payment": "高"}
    assert detail(result, "overdue_payment") == "合同 HT-2 逾期 120 天；合同 HT-1 逾期 20 天"
    hit = result.hits.iloc[0]
    assert (hit["form"], hit["row"], hit["field"], hit["rows"]) == (
        "contracts",
        3,
        "overdue_days",
        (3, 2),
    )


def test_overdue_detail_counts_evidence_beyond_three() -> None:
    rows = [contract(f"HT-{i}", "逾期", 10 + i) for i in range(5)]
    text = detail(run(contracts=rows), "overdue_payment")
    assert text.startswith("合同 HT-4 逾期 14 天；合同 HT-3 逾期 13 天；合同 HT-2 逾期 12 天")
    assert text.endswith("等共 5 项")


@pytest.mark.parametrize(("ago", "fires"), [(0, False), (90, False), (91, True), (-1, True)])
def test_no_contact_window_edges(ago: int, fires: bool) -> None:
    result = run(reception=[visit(ago=ago)])
    assert ("no_contact" in fired(result)) is fires
    if fires and ago > 0:
        when = days_ago(ago).date().isoformat()
        assert detail(result, "no_contact") == f"近 90 天无接待或维护记录（最近一次 {when}）"


def test_no_contact_counts_maintenance_and_says_when_nothing_was_ever_logged() -> None:
    assert "no_contact" not in fired(run(reception=[], maintenance=[upkeep(ago=90)]))
    result = run(reception=[])
    assert fired(result) == {"no_contact": "低"}
    assert detail(result, "no_contact") == "近 90 天无接待或维护记录（无任何记录）"
    hit = result.hits.iloc[0]
    assert (hit["form"], hit["row"], hit["field"]) == ("roster", 2, None)


def _year_ago(days_after: int) -> int:
    """Days before as-of of the date `days_after` days after as-of minus 12 months."""
    return (AS_OF - (AS_OF.replace(year=AS_OF.year - 1) + dt.timedelta(days=days_after))).days


@pytest.mark.parametrize(
    ("tops", "fires"),
    [
        ([10, 200], False),  # exactly 2 in the window
        ([10], True),
        ([10, _year_ago(1)], False),  # the day after as-of minus 12 months counts
        ([10, _year_ago(0)], True),  # as-of minus 12 months itself does not
        ([10, -1], True),  # after as-of: not yet happened
    ],
)
def test_few_top_contacts_window(tops: list[int], fires: bool) -> None:
    group = [customer(tier="集团级")]
    result = run(group, reception=[visit(ago=a, top="是") for a in tops])
    assert ("few_top_contacts" in fired(result)) is fires
    if fires:
        assert fired(result)["few_top_contacts"] == "中"


def test_few_top_contacts_counts_maintenance_top_meetings_only() -> None:
    group = [customer(tier="集团级")]
    both = run(group, reception=[visit(top="是")], maintenance=[upkeep(method="高层互动")])
    assert "few_top_contacts" not in fired(both)
    plain = run(group, reception=[visit(top="是")], maintenance=[upkeep(method="电话")])
    text = detail(plain, "few_top_contacts")
    assert text == (
        f"集团级客户近 12 个月高层接触 1 次（应至少 2 次；最近一次 {days_ago(10).date()}）"
    )


def test_few_top_contacts_only_for_group_customers_recorded_or_computed() -> None:
    assert "few_top_contacts" not in fired(run([customer(tier="分公司级")]))
    # Recorded 项目级 but computed 集团级 (strategic agreement): HQ's customer all the same.
    strategic = run([customer(strategic="是")])
    assert fired(strategic)["few_top_contacts"] == "中"
    given = run([customer()], tiers=["集团级"])
    assert "few_top_contacts" in fired(given)


@pytest.mark.parametrize(
    ("deadline_ago", "closed", "fires"),
    [(0, None, False), (1, None, True), (1, "否", True), (1, "是", False), (None, None, False)],
)
def test_open_issue_overdue(deadline_ago: int | None, closed: str | None, fires: bool) -> None:
    due = None if deadline_ago is None else days_ago(deadline_ago)
    entry = upkeep(ago=30, issue="供货延迟", deadline=due, closed=closed)
    result = run(maintenance=[entry])
    assert fired(result).get("open_issue_overdue") == ("中" if fires else None)
    if fires:
        assert detail(result, "open_issue_overdue") == (
            f"{days_ago(30).date()} 维护记录“供货延迟”响应时限 {due.date()} 已过 1 天，未闭环"
        )
        assert result.hits.iloc[0]["field"] == "deadline"


@pytest.mark.parametrize(
    ("found", "as_of", "fires"),
    [
        (dt.datetime(2026, 4, 1), AS_OF, True),  # first day of the previous quarter
        (dt.datetime(2026, 3, 31), AS_OF, False),
        (dt.datetime(2026, 9, 30), AS_OF, True),
        (dt.datetime(2026, 10, 1), AS_OF, False),  # after as-of
        (dt.datetime(2025, 10, 1), dt.date(2026, 2, 15), True),  # Q1: window opens in Q4
        (dt.datetime(2025, 9, 30), dt.date(2026, 2, 15), False),
    ],
)
def test_reported_risk_two_quarter_window(found: dt.datetime, as_of: dt.date, fires: bool) -> None:
    visits = [visit(ago=(AS_OF - as_of).days + 1)]
    result = run(reception=visits, risk=[report("资金链紧张", "中", found)], as_of=as_of)
    assert fired(result).get("reported_risk") == ("中" if fires else None)
    if fires:
        assert detail(result, "reported_risk") == f"{found.date()} 报告“资金链紧张”（中）"


def test_reported_risk_takes_the_reported_level() -> None:
    rows = [
        report("社会风险", "低", dt.datetime(2026, 5, 1)),
        report("付款延迟", "高", dt.datetime(2026, 8, 1), desc="连续两期未付"),
    ]
    result = run(risk=rows)
    assert fired(result) == {"reported_risk": "高"}
    assert detail(result, "reported_risk") == (
        "2026-08-01 报告“付款延迟”（高）：连续两期未付；2026-05-01 报告“社会风险”（低）"
    )


def test_leadership_change_also_fires_reported_risk() -> None:
    result = run(risk=[report("决策层变更", "低", dt.datetime(2026, 7, 1), desc="董事长更换")])
    assert fired(result) == {"leadership_change": "中", "reported_risk": "低"}
    assert result.customers.at[2, "level"] == "中"
    old = run(risk=[report("决策层变更", "高", dt.datetime(2026, 3, 31))])
    assert fired(old) == {}


def test_bankruptcy_has_no_window_and_is_listed() -> None:
    rows = [report("破产征兆", "低", dt.datetime(2020, 1, 1), uscc=B, desc="法院受理破产申请")]
    result = run([customer(A), customer(B)], risk=rows)
    assert fired(result, 3) == {"bankruptcy": "高"}  # never reported_risk as well
    assert detail(result, "bankruptcy", 3) == "2020-01-01 报告“破产征兆”（低）：法院受理破产申请"
    assert result.bankrupt == [B]
    assert fired(result, 2) == {}
    future = run(risk=[report("破产征兆", "高", dt.datetime(2026, 10, 2))])
    assert future.bankrupt == []


def test_unauthorised_contact_by_another_unit() -> None:
    group = [customer(tier="集团级")]
    tops = [visit(top="是"), visit(ago=20, top="是")]
    other = run(group, reception=tops, maintenance=[upkeep(unit="华南分公司")])
    assert fired(other) == {"unauthorised_contact": "低"}
    assert detail(other, "unauthorised_contact") == (
        f"{days_ago(10).date()} 由“华南分公司”维护（责任单位为“华东分公司”）"
    )
    assert other.hits.iloc[0]["field"] == "unit"
    spaced = run(group, reception=tops, maintenance=[upkeep(unit=" 华东 分公司 ")])
    assert fired(spaced) == {}
    branch = run([customer(tier="分公司级")], maintenance=[upkeep(unit="华南分公司")])
    assert fired(branch) == {}
    computed = run(
        [customer()], reception=tops, maintenance=[upkeep(unit="华南分公司")], tiers=["集团级"]
    )
    assert fired(computed) == {"unauthorised_contact": "低"}


def test_several_rules_level_is_the_highest_and_reasons_worst_first() -> None:
    result = run(
        [customer(tier="集团级"), customer(B)],
        contracts=[contract("HT-9", "逾期", 45)],
        reception=[visit(B)],
        maintenance=[upkeep(ago=100, unit="华南分公司", deadline=days_ago(50))],
        risk=[report("决策层变更", "低", dt.datetime(2026, 9, 1))],
    )
    reasons = result.customers.at[2, "reasons"]
    assert result.customers.at[2, "level"] == "中"
    assert [(r.rule, r.level) for r in reasons] == [
        ("overdue_payment", "中"),
        ("leadership_change", "中"),
        ("few_top_contacts", "中"),
        ("open_issue_overdue", "中"),
        ("reported_risk", "低"),
        ("no_contact", "低"),
        ("unauthorised_contact", "低"),
    ]
    assert result.customers.at[3, "level"] == "无"
    assert len(result.hits) == 7
    assert set(result.hits.columns) >= {"uscc", "rule", "level", "detail", "form", "row"}


def test_empty_risk_frame_and_missing_frames() -> None:
    assert fired(run(risk=[])) == {}
    roster = frame(ROSTER, [customer()])
    empty = pd.DataFrame()
    result = assess(RiskInput(roster, empty, empty, empty, empty), AS_OF, RULES)
    assert fired(result) == {"no_contact": "低"}
    # A frame missing some columns (a sheet without them) is read as blank there.
    partial = RiskInput(roster, pd.DataFrame({"uscc": [A]}), empty, empty, empty)
    assert fired(assess(partial, AS_OF, RULES)) == {"no_contact": "低"}
    none = assess(RiskInput(empty, empty, empty, empty, empty), AS_OF, RULES)
    assert none.customers.empty and none.hits.empty


def test_keys_match_loosely_and_unknown_keys_are_ignored() -> None:
    lower = {**contract("HT-1", "逾期", 100), "uscc": f" {A.lower()} "}
    unknown = contract("HT-2", "逾期", 100, uscc=C)
    result = run(contracts=[lower, unknown])
    assert fired(result) == {"overdue_payment": "高"}
    assert result.hits["rows"].tolist() == [(2,)]


def test_duplicate_roster_keys_share_the_evidence() -> None:
    result = run([customer(A), customer(A)], contracts=[contract("HT-1", "逾期", 5)])
    assert fired(result, 2) == fired(result, 3) == {"overdue_payment": "低"}


def test_rules_file_thresholds() -> None:
    assert load_rules().risk == RiskRules()
    strict = Rules(risk=RiskRules(overdue_high_gt=60, no_contact_days=30, top_contact_min=1))
    assert fired(run(contracts=[contract("HT-1", "逾期", 61)], rules=strict)) == {
        "overdue_payment": "高"
    }
    assert "no_contact" in fired(run(reception=[visit(ago=31)], rules=strict))
    group = run([customer(tier="集团级")], reception=[visit(top="是")], rules=strict)
    assert "few_top_contacts" not in fired(group)


def test_bad_risk_thresholds_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[risk]\noverdue_medium_gt = 90\noverdue_high_gt = 30\n", encoding="utf-8")
    with pytest.raises(RulesFileError, match="overdue_medium_gt"):
        load_rules(bad)


def test_risk_json_shape() -> None:
    result = run([customer(A), customer(B)], contracts=[contract("HT-1", "逾期", 100, uscc=B)])
    doc = risk_json(result, AS_OF)
    assert doc["as_of"] == "2026-09-30"
    assert doc["customers"][0] == {"key": A, "name": f"客户{A[-4:]}", "level": "无", "reasons": []}
    assert doc["customers"][1]["reasons"] == [
        {"rule": "overdue_payment", "level": "高", "detail": "合同 HT-1 逾期 100 天"}
    ]
    assert doc["bankrupt"] == []
    blank = run([customer(A), {**customer(B), "uscc": None, "name": None}])
    doc = risk_json(blank, AS_OF)
    assert doc["customers"][1] == {
        "key": None,
        "name": None,
        "level": "低",
        "reasons": [
            {
                "rule": "no_contact",
                "level": "低",
                "detail": "近 90 天无接待或维护记录（无任何记录）",
            }
        ],
    }
    json.dumps(doc, allow_nan=False)  # valid JSON: no NaN anywhere


def test_end_to_end_from_a_workbook(tmp_path: Path) -> None:
    from kam.io.files import load_raw
    from kam.reader import read_book
    from kam.template import write_submission

    info = {"unit": UNIT, "quarter": "2026Q3", "filler": "王敏", "phone": "021-62345678"}
    info["submitted_on"] = dt.datetime(2026, 10, 10)
    rows = {
        "roster": [
            customer(A, tier="集团级", phone="13812345678", owner="李强", nature="国有企业")
        ],
        "contracts": [{**contract("HT-2021-005", "逾期", 120), "project": "管廊工程"}],
        "reception": [{**visit(top="是"), "host": "王敏", "purpose": "拜访"}],
        "maintenance": [upkeep(unit="华南分公司")],
        "risk": [report("资金链紧张", "中", dt.datetime(2026, 3, 2), desc="")],
    }
    path = write_submission(tmp_path / "华东.xlsx", info, rows)
    sub = read_book(load_raw(path))
    assert sub.as_of == AS_OF
    result = assess(risk_input(sub), sub.as_of, load_rules())
    assert fired(result) == {
        "overdue_payment": "高",
        "few_top_contacts": "中",
        "unauthorised_contact": "低",
    }
    assert detail(result, "overdue_payment") == "合同 HT-2021-005 逾期 120 天"
    hit = result.hits.set_index("rule").loc["overdue_payment"]
    assert (hit["form"], hit["row"]) == ("contracts", 2)
    # 2026-03-02 is before the previous quarter (2026-04-01 ..): not reported_risk.
    assert "reported_risk" not in fired(result)
