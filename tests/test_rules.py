"""Each rule of DOMAIN §6 with a good and a bad value, on workbooks laid out like the template."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from builders import GOOD_USCC, INFO_OK, card_row, contract_row, raw_book, roster_row
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.findings import Report
from kam.uscc import make_uscc
from kam.validate import ValidateSettings, validate_book
from validators.formula_in_data import _runs_as_formula, formula_like

TODAY = dt.date(2026, 10, 15)
SETTINGS = ValidateSettings(today=TODAY)
OTHER_USCC = "91350100M000100Y43"


def run(**kw) -> Report:
    return validate_book(raw_book(**kw), SETTINGS)


def hits(report: Report, rule: str) -> list[tuple[str | None, str | None]]:
    return [(f.sheet, f.cell) for f in report.findings if f.rule == rule]


def test_clean_book_has_no_findings() -> None:
    report = run(
        rows={"roster": [roster_row()], "cards": [card_row()], "contracts": [contract_row()]}
    )
    assert [f.to_json() for f in report.findings] == []
    assert report.ok
    assert report.completeness == 1.0


@pytest.mark.parametrize(
    ("rule", "over", "cell"),
    [
        ("required", {"owner": None}, "G2"),
        ("required", {"owner": "   "}, "G2"),
        ("enum", {"nature": "私营企业"}, "C2"),
        ("uscc_format", {"uscc": "91350100M000100Y4"}, "B2"),
        ("uscc_format", {"uscc": "91350100M00O100Y43"}, "B2"),
        ("uscc_format", {"uscc": "9135٠100M000100Y43"}, "B2"),  # an Arabic-Indic zero
        ("uscc_checksum", {"uscc": "91350100M000100Y44"}, "B2"),
        ("phone", {"phone": "1380013800"}, "I2"),
        ("date_future", {"listed_on": dt.datetime(2026, 10, 1)}, "K2"),
        ("type", {"listed_on": "2024-13-45"}, "K2"),
        ("branch_mismatch", {"unit": "华南分公司"}, "F2"),
        ("formula_in_data", {"remark": "=SUM(1,2)"}, "L2"),
        ("formula_in_data", {"remark": "@qq"}, "L2"),
        ("formula_in_data", {"remark": "-A1"}, "L2"),
    ],
)
def test_roster_rule_fires_on_bad_value(rule: str, over: dict, cell: str) -> None:
    cards = [] if "uscc" in over else [card_row()]
    report = run(rows={"roster": [roster_row(**over)], "cards": cards})
    assert hits(report, rule) == [("大客户名录", cell)]
    assert not report.ok


@pytest.mark.parametrize(
    "over",
    [
        {"phone": "+86 138 0013 8000"},
        {"phone": "010-12345678转801"},
        {"phone": "(0755)22345678"},
        {"remark": "-5%"},
        {"remark": "+1,200.5"},
        {"unit": "华南分公司", "tier": "集团级", "strategic": "是"},
        {"listed_on": "2024年3月1日"},
        {"listed_on": dt.datetime(2026, 9, 30)},
        {"uscc": "91350100m000100y43"},
    ],
)
def test_roster_good_values_have_no_errors(over: dict) -> None:
    report = run(rows={"roster": [roster_row(**over)], "cards": [card_row()]})
    assert report.ok, [f.to_json() for f in report.findings]


def test_fixed_values_are_reported_as_normalized() -> None:
    report = run(
        rows={
            "roster": [roster_row(uscc="９１350100m000100y43 ", listed_on="2024/3/1")],
            "cards": [card_row()],
        }
    )
    assert sorted(hits(report, "normalized")) == [("大客户名录", "B2"), ("大客户名录", "K2")]
    assert report.ok


def test_contract_rules() -> None:
    contracts = [
        contract_row(no="A1"),
        contract_row(no="A1"),  # duplicate_key at B3
        contract_row(no="A2", amount=0),  # amount_range E4
        contract_row(no="A3", pay_status="逾期", overdue_days=None),  # overdue_days G5
        contract_row(no="A4", pay_status="按时", overdue_days=30),  # overdue_days G6
        contract_row(no="A5", uscc="91350100M000100Y43", signed_on="2026-10-01"),  # date_future
        contract_row(no="A6", amount="12,000"),  # normalized, fine
        contract_row(no="A7", uscc="913101157030000009"),  # unknown_customer? only if valid
        contract_row(no="A8", amount="很多"),  # type E10
        contract_row(no="A9", pay_status="逾期", overdue_days=45),  # fine
    ]
    report = run(rows={"roster": [roster_row()], "cards": [card_row()], "contracts": contracts})
    assert hits(report, "duplicate_key") == [("合同台账", "B3")]
    assert hits(report, "amount_range") == [("合同台账", "E4")]
    assert sorted(hits(report, "overdue_days")) == [("合同台账", "G5"), ("合同台账", "G6")]
    assert hits(report, "date_future") == [("合同台账", "D7")]
    assert hits(report, "type") == [("合同台账", "E10")]
    assert ("合同台账", "E8") in hits(report, "normalized")


def test_unknown_customer_only_for_well_formed_codes() -> None:
    from kam.uscc import make_uscc

    stranger = make_uscc(7)
    contracts = [contract_row(no="B1", uscc=stranger), contract_row(no="B2", uscc="123")]
    report = run(rows={"roster": [roster_row()], "cards": [card_row()], "contracts": contracts})
    assert hits(report, "unknown_customer") == [("合同台账", "A2")]
    assert hits(report, "uscc_format") == [("合同台账", "A3")]


def test_maintenance_dates_and_required_when() -> None:
    base = {
        "date": dt.datetime(2026, 8, 1),
        "uscc": GOOD_USCC,
        "method": "拜访",
        "unit": "华东分公司",
        "summary": "季度走访",
        "owner": "李强",
    }
    rows = [
        {**base, "closed": "是", "closed_on": dt.datetime(2026, 7, 1)},  # date_order J2
        {**base, "closed": "是", "closed_on": None},  # required J3
        {**base, "closed": "否"},  # fine
        {**base, "method": "吃饭"},  # enum C5
    ]
    report = run(rows={"roster": [roster_row()], "cards": [card_row()], "maintenance": rows})
    assert hits(report, "date_order") == [("维护管理登记表", "J2")]
    assert hits(report, "required") == [("维护管理登记表", "J3")]
    assert hits(report, "enum") == [("维护管理登记表", "C5")]


def test_email_and_completeness() -> None:
    cards = [card_row(contact_email="zhang@@example", business=None)]
    report = run(rows={"roster": [roster_row()], "cards": cards})
    assert hits(report, "email") == [("信息登记卡", "H2")]
    assert hits(report, "completeness") == [("信息登记卡", "C2")]
    assert report.completeness == pytest.approx(8 / 9)


def test_info_sheet_rules() -> None:
    info = {**INFO_OK, "submitted_on": dt.datetime(2026, 11, 1), "version": "2.0", "phone": "123"}
    report = run(info=info)
    assert hits(report, "date_future") == [("报送信息", "B5")]
    assert hits(report, "template_version") == [("报送信息", "B6")]
    assert hits(report, "phone") == [("报送信息", "B4")]


def test_missing_sheet_and_risk_sheet_may_be_empty() -> None:
    report = run(drop_sheets=("reception",))
    assert [(f.rule, f.sheet, f.cell) for f in report.findings] == [
        ("missing_sheet", "接待登记表", None)
    ]


def test_missing_risk_sheet_is_an_error() -> None:
    report = run(drop_sheets=("risk",))
    assert hits(report, "missing_sheet") == [("风险分析报告", None)]


def test_tier_checks_compare_recorded_with_computed() -> None:
    from kam.uscc import make_uscc

    big, small = make_uscc(11), make_uscc(12)
    roster = [
        roster_row(uscc=GOOD_USCC, tier="集团级", unit="华东分公司"),  # computed 项目级
        roster_row(uscc=big, tier="项目级", name="四川省交通投资集团有限责任公司"),
        roster_row(uscc=small, tier="项目级", name="杭州湾建设有限公司"),
    ]
    contracts = [
        contract_row(GOOD_USCC, "C1", amount=6000.0),
        contract_row(big, "C2", amount=25000.0, signed_on=dt.datetime(2022, 1, 5)),
        contract_row(big, "C3", amount=30000.0, signed_on=dt.datetime(2024, 6, 1)),
        contract_row(small, "C4", amount=5000.0),
    ]
    cards = [card_row(uscc=u) for u in (GOOD_USCC, big, small)]
    report = run(rows={"roster": roster, "contracts": contracts, "cards": cards})
    assert hits(report, "tier_unsupported") == [("大客户名录", "E2")]
    assert hits(report, "tier_upgrade") == [("大客户名录", "E3")]
    upgrade = next(f for f in report.findings if f.rule == "tier_upgrade")
    assert "C3" in upgrade.message() and "集团审批" in upgrade.message()
    assert report.ok  # a warning and an info, no error


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True),
            st.integers(-(10**6), 10**6),
            st.booleans(),
            st.datetimes(),
            st.dates(),
            st.sampled_from(["=1+1", "@x", "-5%", "+86 138 0013 8000", "-A1", "abc", ""]),
            st.text(max_size=5),
            # A NUL inside a text (allowed in cells) before a leading character.
            st.text(alphabet="=@+-\x00a1 ", max_size=6),
        ),
        max_size=30,
    )
)
def test_formula_like_tests_every_text_cell_and_only_those(values: list[object]) -> None:
    expected = [isinstance(v, str) and _runs_as_formula(v) for v in values]
    assert formula_like(pd.Series(values, dtype=object)).tolist() == expected


def test_completeness_counts_every_roster_customer() -> None:
    """9 customers, 3 perfect cards: 3/9, and one finding per customer without a card."""
    codes = [make_uscc(500 + i) for i in range(9)]
    rows = {
        "roster": [roster_row(c) for c in codes],
        "cards": [card_row(uscc=c) for c in codes[:3]],
    }
    report = validate_book(raw_book(rows=rows), ValidateSettings(today=TODAY))
    assert report.completeness == pytest.approx(3 / 9)
    found = [f for f in report.findings if f.rule == "completeness"]
    assert [(f.sheet, f.cell) for f in found] == [("大客户名录", f"B{r}") for r in range(5, 11)]
    assert all("没有信息登记卡" in f.message() and f.level.value == "warning" for f in found)
    assert codes[3] in found[0].message() and "info card" in found[0].message("en")


def test_one_perfect_card_for_many_customers_is_not_complete() -> None:
    codes = [make_uscc(600 + i) for i in range(100)]
    rows = {"roster": [roster_row(c) for c in codes], "cards": [card_row(uscc=codes[0])]}
    report = validate_book(raw_book(rows=rows), ValidateSettings(today=TODAY))
    assert report.completeness == pytest.approx(0.01)
    assert sum(f.rule == "completeness" for f in report.findings) == 99
