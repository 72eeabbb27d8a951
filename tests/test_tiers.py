"""The tier engine (DOMAIN §3): boundaries, window, reasons, the other schemes, the check."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam.errors import UsageError
from kam.forms import UNMET_TIER
from kam.rules import Rules, TierRules, load_rules
from kam.tiers import (
    NO_KEY_REASON,
    check_tier,
    check_tiers,
    compute_tiers,
    quarter_end,
    tier_labels,
    tier_one,
    window_start,
)

AS_OF = dt.date(2026, 9, 30)
D = dt.date
Contract = tuple[str, dt.date, float]


def frames(
    book: dict[str, list[Contract]], strategic: dict[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys = list(book)
    customers = pd.DataFrame(
        {"uscc": keys, "strategic": [(strategic or {}).get(k, "否") for k in keys]}
    )
    rows = [(k, no, day, amt) for k, cs in book.items() for no, day, amt in cs]
    contracts = pd.DataFrame(rows, columns=["uscc", "contract_no", "signed_on", "amount"])
    contracts["signed_on"] = pd.to_datetime(contracts["signed_on"])
    contracts["amount"] = contracts["amount"].astype(float)
    return customers, contracts


def one(
    contracts: list[Contract],
    strategic: str = "否",
    as_of: dt.date = AS_OF,
    rules: TierRules | None = None,
) -> tuple[str, str]:
    customers, ledger = frames({"K": contracts}, {"K": strategic})
    out = compute_tiers(customers, ledger, as_of, rules or TierRules())
    return out.at[0, "computed"], out.at[0, "reason"]


def tier(*amounts: float, strategic: str = "否") -> str:
    return one([(f"HT-{i}", D(2025, 1, 1), a) for i, a in enumerate(amounts)], strategic)[0]


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ((), UNMET_TIER),
        ((4999.99,), UNMET_TIER),
        ((5000,), "项目级"),
        ((5000.01,), "项目级"),
        ((9999.99,), "项目级"),
        ((10000,), "分公司级"),
        ((10000.01,), "分公司级"),
        ((20000, 20000), "分公司级"),  # "> 20000" is strict
        ((20000.01, 20000), "分公司级"),
        ((20000.01, 20000.01), "集团级"),
        ((30000,), "分公司级"),  # one large contract is not enough
        ((30000, 25000), "集团级"),
        ((30000, 25000, 4000), "集团级"),
        ((4000, 4000, 4000, 4000), UNMET_TIER),  # contracts are not summed
    ],
)
def test_default_scheme_boundaries(amounts: tuple[float, ...], expected: str) -> None:
    assert tier(*amounts) == expected


def test_strategic_agreement_is_group_level_whatever_the_contracts() -> None:
    assert one([], strategic="是") == ("集团级", "签订战略合作协议")
    assert tier(6000, strategic="是") == "集团级"
    assert tier(6000, strategic=" 是 ") == "集团级"
    assert tier(6000, strategic="否") == "项目级"


def test_reason_names_deciding_contracts_as_in_the_spec() -> None:
    contracts = [
        ("HT-2021-007", D(2021, 5, 10), 30000),
        ("HT-2024-013", D(2024, 7, 15), 25000),
        ("HT-2023-001", D(2023, 1, 1), 8000),
    ]
    assert one(contracts, as_of=D(2025, 12, 31)) == (
        "集团级",
        "2 份合同 > 20000 万元: HT-2021-007 (2021-05-10), HT-2024-013 (2024-07-15)",
    )
    assert one([("HT-9", D(2024, 3, 1), 12000), ("HT-8", D(2024, 1, 1), 5000)]) == (
        "分公司级",
        "1 份合同 ≥ 10000 万元: HT-9 (2024-03-01)",
    )
    assert one([("HT-1", D(2024, 3, 1), 5000)]) == (
        "项目级",
        "1 份合同 ≥ 5000 万元: HT-1 (2024-03-01)",
    )
    assert one([("HT-1", D(2024, 3, 1), 4999)]) == (UNMET_TIER, "近 5 年无 ≥ 5000 万元的合同")


def test_reason_lists_the_three_largest_then_counts_the_rest() -> None:
    contracts = [
        (f"HT-{a}", D(2024, 1, 1 + i), a) for i, a in enumerate([11000, 15000, 13000, 12000, 14000])
    ]
    computed, reason = one(contracts)
    assert computed == "分公司级"
    assert reason == (
        "5 份合同 ≥ 10000 万元: HT-15000 (2024-01-02), HT-14000 (2024-01-05), "
        "HT-13000 (2024-01-03) 等 5 份"
    )


def test_branch_reason_counts_a_lone_large_contract_in_the_band_below() -> None:
    _, reason = one([("BIG", D(2024, 1, 1), 50000), ("MID", D(2023, 1, 1), 10000)])
    assert reason == "2 份合同 ≥ 10000 万元: BIG (2024-01-01), MID (2023-01-01)"


def test_window_includes_both_ends_and_nothing_outside() -> None:
    assert window_start(AS_OF, 5) == D(2021, 9, 30)
    assert tier_of_dated(D(2021, 9, 30)) == "分公司级"  # first day of the window
    assert tier_of_dated(AS_OF) == "分公司级"  # last day
    assert tier_of_dated(D(2021, 9, 29)) == UNMET_TIER  # one day before
    assert tier_of_dated(D(2026, 10, 1)) == UNMET_TIER  # after the as-of date


def tier_of_dated(day: dt.date, as_of: dt.date = AS_OF) -> str:
    return one([("HT", day, 10000)], as_of=as_of)[0]


def test_29_february_as_of_starts_the_window_on_28_february() -> None:
    leap = D(2028, 2, 29)
    assert window_start(leap, 5) == D(2023, 2, 28)
    assert window_start(leap, 4) == D(2024, 2, 29)  # a leap year keeps the 29th
    assert window_start(dt.datetime(2028, 2, 29, 15, 30), 5) == D(2023, 2, 28)
    assert tier_of_dated(D(2023, 2, 28), leap) == "分公司级"
    assert tier_of_dated(D(2023, 2, 27), leap) == UNMET_TIER


def test_window_length_comes_from_the_rules() -> None:
    rules = TierRules.model_validate({"default": {"window_years": 3}})
    contracts = [("HT", D(2023, 1, 1), 12000)]
    assert one(contracts, rules=rules) == (UNMET_TIER, "近 3 年无 ≥ 5000 万元的合同")
    assert one(contracts)[0] == "分公司级"


def test_thresholds_and_count_come_from_the_rules() -> None:
    rules = TierRules.model_validate(
        {"default": {"group_min_count": 1, "group_amount_gt": 800, "project_amount_ge": 100}}
    )
    assert one([("HT", D(2025, 1, 1), 801)], rules=rules)[0] == "集团级"
    assert one([("HT", D(2025, 1, 1), 100)], rules=rules) == (
        "项目级",
        "1 份合同 ≥ 100 万元: HT (2025-01-01)",
    )


@pytest.mark.parametrize(
    ("quarter", "last_day"),
    [
        ("2026Q1", D(2026, 3, 31)),
        ("2026Q2", D(2026, 6, 30)),
        ("2026Q3", D(2026, 9, 30)),
        ("2026Q4", D(2026, 12, 31)),
        ("2028Q1", D(2028, 3, 31)),
        (" 2026q3 ", D(2026, 9, 30)),
    ],
)
def test_quarter_end(quarter: str, last_day: dt.date) -> None:
    assert quarter_end(quarter) == last_day


@pytest.mark.parametrize("bad", ["2026Q5", "2026-3", "Q3", ""])
def test_quarter_end_rejects_other_text(bad: str) -> None:
    with pytest.raises(UsageError, match="2026Q3"):
        quarter_end(bad)


def test_unusable_rows_are_ignored_and_keys_are_matched_tidily() -> None:
    customers = pd.DataFrame(
        {"uscc": ["A", " B ", None, "C", "A"], "strategic": ["否", "否", "否", None, "是"]},
        index=[2, 3, 4, 5, 6],  # sheet rows
    )
    contracts = pd.DataFrame(
        {
            "uscc": ["A", "A", "A", "B", "B", "C", "X", None],
            "contract_no": ["a1", "a2", "a3", "b1", "b2", "c1", "x1", "n1"],
            "signed_on": pd.to_datetime(
                [
                    "2025-01-01",
                    None,
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-01",
                ]
            ),
            "amount": [np.nan, 50000, -30000, 6000, 25000, 0, 99999, 99999],
        }
    )
    out = compute_tiers(customers, contracts, AS_OF, TierRules())
    assert list(out.index) == [2, 3, 4, 5, 6]
    assert out["computed"].tolist() == [UNMET_TIER, "分公司级", UNMET_TIER, UNMET_TIER, "集团级"]
    assert out.at[3, "reason"] == "1 份合同 ≥ 10000 万元: b2 (2025-01-01)"
    assert out.at[4, "reason"] == NO_KEY_REASON


def test_contract_numbers_typed_as_numbers_read_as_shown_and_blank_ones_by_amount() -> None:
    customers = pd.DataFrame({"uscc": ["A"], "strategic": ["否"]})
    contracts = pd.DataFrame(
        {
            "uscc": ["A", "A"],
            "contract_no": [2024001.0, None],
            "signed_on": pd.to_datetime(["2025-01-01", "2024-01-01"]),
            "amount": [30000.0, 20000.5],
        }
    )
    reason = compute_tiers(customers, contracts, AS_OF, TierRules()).at[0, "reason"]
    assert reason == "2 份合同 > 20000 万元: 2024001 (2025-01-01), 20000.5 万元 (2024-01-01)"


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_any_datetime_resolution_and_object_dates(unit: str) -> None:
    customers = pd.DataFrame({"uscc": ["A"], "strategic": ["否"]})
    signed = pd.Series(pd.to_datetime(["2021-09-30", "2021-09-29"])).astype(f"datetime64[{unit}]")
    contracts = pd.DataFrame(
        {
            "uscc": ["A", "A"],
            "contract_no": ["in", "out"],
            "signed_on": signed,
            "amount": [1e4, 3e4],
        }
    )
    out = compute_tiers(customers, contracts, AS_OF, TierRules())
    assert out.at[0, "reason"] == "1 份合同 ≥ 10000 万元: in (2021-09-30)"
    contracts["signed_on"] = [D(2021, 9, 30), D(2021, 9, 29)]
    assert compute_tiers(customers, contracts, AS_OF, TierRules()).equals(out)


def test_empty_inputs() -> None:
    customers, contracts = frames({})
    out = compute_tiers(customers, contracts, AS_OF, TierRules())
    assert out.empty and list(out.columns) == ["computed", "reason"]
    customers = pd.DataFrame({"uscc": ["A"], "strategic": ["否"]})
    out = compute_tiers(customers, contracts, AS_OF, TierRules())
    assert out.at[0, "computed"] == UNMET_TIER


def test_tier_one_names_contracts_by_amount() -> None:
    got = tier_one(
        [25000, 30000, 100],
        [D(2022, 5, 10), D(2024, 7, 15), D(2025, 1, 1)],
        False,
        AS_OF,
        TierRules(),
    )
    assert got == (
        "集团级",
        "2 份合同 > 20000 万元: 30000 万元 (2024-07-15), 25000 万元 (2022-05-10)",
    )
    assert tier_one([], [], True, AS_OF, TierRules()) == ("集团级", "签订战略合作协议")
    assert tier_one([None, 6000], [D(2025, 1, 1), None], False, AS_OF, TierRules())[0] == UNMET_TIER
    with pytest.raises(ValueError):
        tier_one([1.0], [], False, AS_OF, TierRules())


# Pareto: a_share 0.8, b_share 0.95 by default.
PARETO = TierRules(scheme="pareto")


def pareto(revenues: list[float], rules: TierRules = PARETO) -> list[str]:
    book = {f"K{i}": ([(f"HT-{i}", D(2025, 1, 1), r)] if r else []) for i, r in enumerate(revenues)}
    customers, contracts = frames(book)
    return compute_tiers(customers, contracts, AS_OF, rules)["computed"].tolist()


@pytest.mark.parametrize(
    ("revenues", "classes"),
    [
        ([50, 30, 15, 5], ["A", "A", "B", "C"]),  # 80% reached exactly by the first two
        ([70, 20, 10], ["A", "A", "B"]),  # the customer that crosses 80% is A
        ([5, 15, 30, 50], ["C", "B", "A", "A"]),  # row order does not matter
        ([40, 40, 20], ["A", "A", "B"]),  # ties share a class
        ([100], ["A"]),
        ([60, 0, 40], ["A", "C", "A"]),  # zero revenue is C
        ([0, 0], ["C", "C"]),
        ([96, 3, 1], ["A", "C", "C"]),  # 96% is already past b_share
        ([85, 10, 5], ["A", "B", "C"]),
    ],
)
def test_pareto_classes(revenues: list[float], classes: list[str]) -> None:
    assert pareto(revenues) == classes


def test_pareto_sums_the_window_and_explains_the_rank() -> None:
    book = {
        "K0": [("a", D(2025, 1, 1), 30), ("b", D(2024, 1, 1), 30), ("old", D(2019, 1, 1), 999)],
        "K1": [("c", D(2025, 1, 1), 40)],
    }
    customers, contracts = frames(book)
    out = compute_tiers(customers, contracts, AS_OF, PARETO)
    assert out["computed"].tolist() == ["A", "A"]
    assert out.at[0, "reason"] == (
        "近 5 年合同额 60 万元，占 60.0%，排名第 1/2，排在前面的客户累计 0.0%，未达 80%，属 A 类"
    )
    assert "排名第 2/2，排在前面的客户累计 60.0%，未达 80%" in out.at[1, "reason"]


def test_pareto_uses_the_configured_labels_and_shares() -> None:
    rules = TierRules.model_validate(
        {
            "scheme": "pareto",
            "pareto": {"a_share": 0.5, "b_share": 0.9, "labels": ["甲", "乙", "丙"]},
        }
    )
    assert pareto([50, 40, 10], rules) == ["甲", "乙", "丙"]
    assert tier_labels(rules) == ("甲", "乙", "丙")


def test_pareto_ignores_the_strategic_flag() -> None:
    customers, contracts = frames({"K0": [("a", D(2025, 1, 1), 10)], "K1": []}, {"K1": "是"})
    assert compute_tiers(customers, contracts, AS_OF, PARETO)["computed"].tolist() == ["A", "C"]


THRESHOLD = TierRules(scheme="threshold")


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([500], "钻石"),
        ([499.99], "白金"),
        ([250, 250], "钻石"),
        ([100], "白金"),
        ([99.99], "金"),
        ([10], "金"),
        ([9.99], "大众"),
        ([], "大众"),
    ],
)
def test_threshold_on_window_total(amounts: list[float], expected: str) -> None:
    assert (
        one([(f"HT-{i}", D(2025, 1, 1), a) for i, a in enumerate(amounts)], rules=THRESHOLD)[0]
        == expected
    )


def test_threshold_reasons_and_max_contract_measure() -> None:
    contracts = [("HT-1", D(2025, 1, 1), 300), ("HT-2", D(2024, 1, 1), 300)]
    assert one(contracts, rules=THRESHOLD) == (
        "钻石",
        "近 5 年合同总额 600 万元 ≥ 500 万元（2 份）",
    )
    by_max = TierRules.model_validate(
        {"scheme": "threshold", "threshold": {"measure": "max_contract"}}
    )
    assert one(contracts, rules=by_max) == (
        "白金",
        "近 5 年最大单份合同 300 万元 ≥ 100 万元: HT-2 (2024-01-01)",  # equal: earlier first
    )
    assert one([("HT", D(2025, 1, 1), 5)], rules=THRESHOLD) == (
        "大众",
        "近 5 年合同总额 5 万元 < 10 万元（1 份）",
    )
    assert one([], rules=THRESHOLD) == ("大众", "近 5 年无合同")


def test_threshold_takes_the_first_band_in_the_listed_order() -> None:
    rules = TierRules.model_validate(
        {
            "scheme": "threshold",
            "threshold": {"bands": [{"label": "低", "min": 1}, {"label": "高", "min": 100}]},
        }
    )
    assert one([("HT", D(2025, 1, 1), 500)], rules=rules)[0] == "低"


def test_the_shipped_rules_file_selects_the_default_scheme() -> None:
    assert load_rules() == Rules()
    assert tier_labels(load_rules().tier) == ("集团级", "分公司级", "项目级", UNMET_TIER)


@pytest.mark.parametrize(
    ("recorded", "computed", "check"),
    [
        ("集团级", "集团级", "ok"),
        ("集团级", "分公司级", "tier_unsupported"),
        ("分公司级", "项目级", "tier_unsupported"),
        ("项目级", UNMET_TIER, "tier_unsupported"),
        ("项目级", "分公司级", "tier_upgrade"),
        ("分公司级", "集团级", "tier_upgrade"),
        (" 项目级 ", "项目级", "ok"),
        (None, "集团级", "ok"),
        ("", "项目级", "ok"),
        ("钻石", "项目级", "ok"),  # not a label of the scheme: the enum check reports it
    ],
)
def test_check_tier_default_scheme(recorded: str | None, computed: str, check: str) -> None:
    assert check_tier(recorded, computed) == check
    assert check_tiers(pd.Series([recorded]), pd.Series([computed])).tolist() == [check]


def test_check_tier_other_schemes_use_their_label_order() -> None:
    assert check_tier("A", "B", PARETO) == "tier_unsupported"
    assert check_tier("C", "A", PARETO) == "tier_upgrade"
    assert check_tier("集团级", "A", PARETO) == "ok"
    assert check_tier("金", "钻石", THRESHOLD) == "tier_upgrade"
    assert check_tier("钻石", "大众", THRESHOLD) == "tier_unsupported"


def test_check_tiers_is_aligned_with_its_input() -> None:
    recorded = pd.Series(["集团级", None, "项目级", "x"], index=[7, 8, 9, 10])
    computed = pd.Series(["项目级", "集团级", "分公司级", "集团级"], index=[7, 8, 9, 10])
    got = check_tiers(recorded, computed)
    assert list(got.index) == [7, 8, 9, 10]
    assert got.tolist() == [check_tier(r, c) for r, c in zip(recorded, computed, strict=True)]
