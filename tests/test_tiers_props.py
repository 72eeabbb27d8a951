"""Properties of the tier engine under varied inputs (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.udfs import KA_TIER, KA_TIERS
from kam.forms import UNMET_TIER
from kam.rules import TierRules
from kam.tiers import compute_tiers, tier_labels, tier_one, window_start
from kam.uscc import make_uscc

RULES = TierRules()
RANK = {label: i for i, label in enumerate(tier_labels(RULES))}  # 0 = highest
AS_OF = dt.date(2026, 9, 30)
EXCEL_EPOCH = dt.date(1899, 12, 30)

# Amounts cluster on the thresholds so that boundaries are hit often.
amounts = st.one_of(
    st.sampled_from([4999.99, 5000.0, 9999.99, 10000.0, 20000.0, 20000.01, 30000.0]),
    st.floats(min_value=0.01, max_value=60000, allow_nan=False),
)
# Contracts dated up to 7 years before the as-of date (so some fall outside the window).
days_back = st.integers(min_value=0, max_value=7 * 366)
contract = st.tuples(amounts, days_back)
contract_lists = st.lists(contract, max_size=8)


def tier_of(cs: list[tuple[float, int]], strategic: bool, as_of: dt.date = AS_OF) -> str:
    return tier_one(
        [a for a, _ in cs], [AS_OF - dt.timedelta(days=d) for _, d in cs], strategic, as_of, RULES
    )[0]


@settings(max_examples=150, deadline=None)
@given(contract_lists, contract, st.booleans())
def test_adding_a_contract_never_lowers_the_tier(
    cs: list[tuple[float, int]], extra: tuple[float, int], strategic: bool
) -> None:
    assert RANK[tier_of([*cs, extra], strategic)] <= RANK[tier_of(cs, strategic)]


@settings(max_examples=150, deadline=None)
@given(contract_lists, st.integers(min_value=0, max_value=3 * 366), st.booleans())
def test_moving_as_of_forward_without_new_contracts_never_raises_the_tier(
    cs: list[tuple[float, int]], forward: int, strategic: bool
) -> None:
    # Every contract is dated on or before the old as-of date, so a later as-of date can
    # only drop contracts off the start of the window, never add any.
    later = AS_OF + dt.timedelta(days=forward)
    assert RANK[tier_of(cs, strategic, later)] >= RANK[tier_of(cs, strategic)]


def reference_tier(cs: list[tuple[float, dt.date]], strategic: bool, as_of: dt.date) -> str:
    """DOMAIN §3 as written, contract by contract."""
    start = window_start(as_of, 5)
    c5 = [a for a, d in cs if start <= d <= as_of]
    if strategic or sum(a > 20000 for a in c5) >= 2:
        return "集团级"
    if any(a >= 10000 for a in c5):
        return "分公司级"
    if any(a >= 5000 for a in c5):
        return "项目级"
    return UNMET_TIER


books = st.lists(st.tuples(contract_lists, st.booleans()), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(books, st.integers(min_value=-400, max_value=400))
def test_compute_tiers_matches_the_rule_text_for_every_customer(
    book: list[tuple[list[tuple[float, int]], bool]], shift: int
) -> None:
    as_of = AS_OF + dt.timedelta(days=shift)
    keys = [f"K{i}" for i in range(len(book))]
    customers = pd.DataFrame({"uscc": keys, "strategic": ["是" if s else "否" for _, s in book]})
    rows = [
        (k, f"HT-{k}-{j}", AS_OF - dt.timedelta(days=d), a)
        for k, (cs, _) in zip(keys, book, strict=True)
        for j, (a, d) in enumerate(cs)
    ]
    contracts = pd.DataFrame(rows, columns=["uscc", "contract_no", "signed_on", "amount"])
    contracts["signed_on"] = pd.to_datetime(contracts["signed_on"])
    contracts["amount"] = contracts["amount"].astype(float)
    got = compute_tiers(customers, contracts, as_of, RULES)["computed"].tolist()
    expected = [
        reference_tier([(a, AS_OF - dt.timedelta(days=d)) for a, d in cs], s, as_of)
        for cs, s in book
    ]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(books, st.randoms(use_true_random=False))
def test_ka_tiers_equals_ka_tier_per_customer(
    book: list[tuple[list[tuple[float, int]], bool]], rnd: object
) -> None:
    keys = [make_uscc(i) for i in range(len(book))]
    # Excel shapes: one-column ranges as lists of rows, dates as serial numbers.
    key_col = [[k] for k in keys]
    strategic_col = [["是" if s else "否"] for _, s in book]
    ledger = [(k, a, (AS_OF - dt.timedelta(days=d) - EXCEL_EPOCH).days * 1.0)
              for k, (cs, _) in zip(keys, book, strict=True) for a, d in cs]  # fmt: skip
    rnd.shuffle(ledger)  # type: ignore[attr-defined]
    many = KA_TIERS(
        key_col,
        [[k] for k, _, _ in ledger],
        [[a] for _, a, _ in ledger],
        [[d] for _, _, d in ledger],
        strategic_col,
        "2026Q3",
    )
    singles = [
        [
            KA_TIER(
                [[a] for k2, a, _ in ledger if k2 == k] or [[None]],
                [[d] for k2, _, d in ledger if k2 == k] or [[None]],
                s,
                "2026Q3",
            )
        ]
        for k, s in zip(keys, [s for [s] in strategic_col], strict=True)
    ]
    assert many == singles


revenues = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=15)
PARETO = TierRules(scheme="pareto")


def pareto(values: list[int]) -> list[str]:
    customers = pd.DataFrame({"uscc": [f"K{i}" for i in range(len(values))]})
    contracts = pd.DataFrame(
        {
            "uscc": [f"K{i}" for i, v in enumerate(values) if v],
            "contract_no": "HT",
            "signed_on": pd.Timestamp(2025, 1, 1),
            "amount": [float(v) for v in values if v],
        }
    )
    return compute_tiers(customers, contracts, AS_OF, PARETO)["computed"].tolist()


@settings(max_examples=150, deadline=None)
@given(revenues, st.randoms(use_true_random=False))
def test_pareto_is_the_smallest_top_group_reaching_each_share(
    values: list[int], rnd: object
) -> None:
    classes = pareto(values)
    total = sum(values)
    for v, c in zip(values, classes, strict=True):
        ahead = sum(x for x in values if x > v)
        if v == 0:
            assert c == "C"
        elif ahead < 0.8 * total:
            assert c == "A"
        elif ahead < 0.95 * total:
            assert c == "B"
        else:
            assert c == "C"
    # More revenue never means a lower class, and the row order does not matter.
    order = {"A": 0, "B": 1, "C": 2}
    for v, c in zip(values, classes, strict=True):
        for w, d in zip(values, classes, strict=True):
            if v > w:
                assert order[c] <= order[d]
    shuffled = list(enumerate(values))
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    again = pareto([v for _, v in shuffled])
    assert [again[j] for j, _ in sorted(enumerate(shuffled), key=lambda p: p[1][0])] == classes


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=800, allow_nan=False), max_size=6))
def test_threshold_band_follows_the_window_total(values: list[float]) -> None:
    rules = TierRules(scheme="threshold")
    got = tier_one(values, [dt.date(2025, 1, 1)] * len(values), False, AS_OF, rules)[0]
    total = sum(values)
    expected = (
        "钻石" if total >= 500 else "白金" if total >= 100 else "金" if total >= 10 else "大众"
    )
    # Summation order may differ in the last bit right at a band edge.
    if all(abs(total - edge) > 1e-6 for edge in (500, 100, 10)):
        assert got == expected
