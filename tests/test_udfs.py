"""Worksheet functions called as Excel calls them, and the GB 32100-2015 USCC check behind one.

Excel (xlwings, ndim=2) passes a range as a list of rows, a blank cell as None, a date
cell as datetime and an unformatted date as its serial number (float).
"""

from __future__ import annotations

import datetime as dt
import inspect
import random

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addin import udfs
from addin.udfs import KA_TIER, KA_TIER_REASON, KA_TIERS, KA_USCC_OK
from kam.forms import UNMET_TIER
from kam.uscc import (
    CATEGORIES,
    CODE_ALPHABET,
    make_uscc,
    uscc_check_char,
    uscc_checksum_mask,
    uscc_format_mask,
    uscc_masks,
    uscc_ok,
    uscc_problem,
)

EPOCH = dt.date(1899, 12, 30)


def serial(day: dt.date) -> float:
    return float((day - EPOCH).days)


def col(*values: object) -> list[list[object]]:
    return [[v] for v in values]


# --- KA_TIER / KA_TIER_REASON -------------------------------------------------------------


def test_serial_numbers_and_datetime_cells_with_blank_rows() -> None:
    amounts = col(30000.0, 25000.0, None, None)  # range longer than the data
    dates = col(serial(dt.date(2024, 7, 15)), dt.datetime(2022, 5, 10), None, None)
    assert KA_TIER(amounts, dates, "否", "2026Q3") == "集团级"
    assert KA_TIER_REASON(amounts, dates, "否", "2026Q3") == (
        "2 份合同 > 20000 万元: 30000 万元 (2024-07-15), 25000 万元 (2022-05-10)"
    )


def test_as_of_decides_the_window() -> None:
    amounts, dates = col(12000.0), col(dt.datetime(2021, 9, 30))
    assert KA_TIER(amounts, dates, "否", "2026Q3") == "分公司级"
    assert KA_TIER(amounts, dates, "否", dt.datetime(2026, 10, 1)) == UNMET_TIER
    assert KA_TIER(amounts, dates, "否", serial(dt.date(2026, 9, 30))) == "分公司级"
    assert KA_TIER(amounts, dates, "否", "2026-09-30") == "分公司级"
    assert KA_TIER(amounts, dates, "否", "２０２６Ｑ３") == "分公司级"


def test_as_of_defaults_to_today() -> None:
    today = dt.date.today()
    recent = col(dt.datetime.combine(today - dt.timedelta(days=10), dt.time()))
    old = col(dt.datetime(today.year - 6, 1, 1))
    assert KA_TIER(col(6000.0), recent, "否") == "项目级"
    assert KA_TIER(col(6000.0), old, "否") == UNMET_TIER
    assert KA_TIER(col(6000.0), recent, "否", None) == "项目级"


def test_a_row_range_and_single_cells_work_too() -> None:
    row = [[30000.0, 25000.0]]
    dates = [[dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)]]
    assert KA_TIER(row, dates, "否", "2026Q3") == "集团级"
    assert KA_TIER(7000.0, dt.datetime(2025, 1, 1), "否", "2026Q3") == "项目级"
    assert KA_TIER([[7000.0]], [[dt.datetime(2025, 1, 1)]], [["否"]], "2026Q3") == "项目级"


def test_text_cells_full_width_and_commas_are_read_like_the_validator_reads_them() -> None:
    amounts = col("１２，０００", "6,000万元", " 8000 ")
    dates = col("２０２４年３月１日", "2024/3/2", "20240303")
    assert KA_TIER(amounts, dates, None, "2026Q3") == "分公司级"
    assert KA_TIER_REASON(amounts, dates, None, "2026Q3") == (
        "1 份合同 ≥ 10000 万元: 12000 万元 (2024-03-01)"
    )


@pytest.mark.parametrize(
    ("strategic", "expected"),
    [("是", "集团级"), ("否", UNMET_TIER), (None, UNMET_TIER), ("", UNMET_TIER), (True, "集团级"),
     (False, UNMET_TIER), (" 是 ", "集团级"), ([["是"]], "集团级")],
)  # fmt: skip
def test_strategic_flag(strategic: object, expected: str) -> None:
    assert KA_TIER(col(None), col(None), strategic, "2026Q3") == expected


def test_no_contracts() -> None:
    assert KA_TIER(None, None, "否", "2026Q3") == UNMET_TIER
    assert KA_TIER_REASON(col(None, None), col(None, None), "否", "2026Q3") == (
        "近 5 年无 ≥ 5000 万元的合同"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((col(1.0, 2.0), col(45000.0), "否"), "参数错误：金额与日期个数不一致"),
        (
            ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], "否"),
            "参数错误：金额应为单行或单列区域",
        ),
        ((col(1.0, "abc"), col(45000.0, 45000.0), "否"), "参数错误：金额第 2 个值“abc”不是数字"),
        ((col(1.0), col("明天"), "否"), "参数错误：签订日期值“明天”无法识别为日期"),
        ((col(1.0), col(45000.0), "也许"), "参数错误：战略合作协议应为“是”或“否”，不能是“也许”"),
        ((col(1.0), col(45000.0), [["是", "否"]]), "参数错误：战略合作协议应为单个单元格"),
        ((col(1.0), col(45000.0), "否", "下周"), "参数错误：评估日期值“下周”无法识别为日期"),
        ((col(1.0), col(45000.0), "否", [[1.0, 2.0]]), "参数错误：评估日期应为单个单元格"),
        ((col(True), col(45000.0), "否"), "参数错误：金额值“True”不是数字"),
    ],
)
def test_bad_arguments_give_a_short_chinese_message(args: tuple[object, ...], message: str) -> None:
    assert KA_TIER(*args) == message
    assert KA_TIER_REASON(*args) == message


def test_unexpected_failures_are_shown_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(udfs, "tier_one", broken)
    assert KA_TIER(col(1.0), col(45000.0), "否", "2026Q3") == "计算出错：boom"


# --- KA_TIERS -------------------------------------------------------------------------------

A, B, C = make_uscc(1), make_uscc(2), make_uscc(3)


def test_ka_tiers_spills_a_column_aligned_with_the_keys() -> None:
    keys = col(A, B.lower(), " " + C, None, None)  # typed in lower case; trailing blank rows
    ledger = [
        (A, 30000.0, dt.datetime(2024, 1, 1)),
        (B, 12000.0, serial(dt.date(2025, 1, 1))),
        (A, 25000.0, dt.datetime(2023, 1, 1)),
        ("９" + C[1:], 6000.0, "2025-06-01"),  # full-width digit in the ledger
        (B, None, None),
    ]
    got = KA_TIERS(
        keys,
        col(*(k for k, _, _ in ledger)),
        col(*(a for _, a, _ in ledger)),
        col(*(d for _, _, d in ledger)),
        col("否", "否", "否", None, None),
        "2026Q3",
    )
    assert got == [["集团级"], ["分公司级"], ["项目级"], [""], [""]]


def test_ka_tiers_one_strategic_value_applies_to_every_customer() -> None:
    got = KA_TIERS(col(A, B), col(A), col(1.0), col(45000.0), "是", "2026Q3")
    assert got == [["集团级"], ["集团级"]]


def test_ka_tiers_handles_a_10000_row_roster_in_one_call() -> None:
    rnd = random.Random(5)
    keys = sorted({make_uscc(rnd) for _ in range(10_000)})
    contract_keys = [rnd.choice(keys) for _ in range(30_000)]
    amounts = [rnd.choice([1000.0, 6000.0, 12000.0, 25000.0]) for _ in contract_keys]
    dates = [serial(dt.date(2022, 1, 1)) + rnd.randrange(1500) for _ in contract_keys]
    got = KA_TIERS(
        col(*keys), col(*contract_keys), col(*amounts), col(*dates), col(*["否"] * len(keys))
    )
    assert len(got) == len(keys) and all(len(row) == 1 for row in got)
    assert {t for [t] in got} <= {"集团级", "分公司级", "项目级", UNMET_TIER}
    # Spot-check customers against the single-customer function.
    for i in range(0, len(keys), 997):
        mine = [j for j, k in enumerate(contract_keys) if k == keys[i]]
        one = KA_TIER(
            col(*(amounts[j] for j in mine)) or None, col(*(dates[j] for j in mine)) or None, "否"
        )
        assert got[i] == [one]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (col(A), col(A, B), col(1.0), col(45000.0), "否"),
            "参数错误：合同客户代码、金额与日期个数不一致",
        ),
        (
            (col(A, B), col(A), col(1.0), col(45000.0), col("否", "否", "否")),
            "参数错误：战略合作协议与客户代码个数不一致",
        ),
        ((col(A), col(A), col("x"), col(45000.0), "否"), "参数错误：金额值“x”不是数字"),
        (([], col(A), col(1.0), col(45000.0), "否"), "参数错误：客户代码区域为空"),
        (
            ([[A, B], [C, A]], col(A), col(1.0), col(45000.0), "否"),
            "参数错误：客户代码应为单行或单列区域",
        ),
    ],
)
def test_ka_tiers_bad_arguments(args: tuple[object, ...], message: str) -> None:
    assert KA_TIERS(*args) == message


def test_functions_are_valid_excel_udfs() -> None:
    for fn in (KA_TIER, KA_TIER_REASON, KA_TIERS, KA_USCC_OK):
        doc = inspect.getdoc(fn) or ""
        # Excel shows the docstring as the function's help: one sentence, < 255 characters.
        assert 0 < len(doc) < 255 and "\n" not in doc and doc.endswith("。"), fn.__name__
        params = inspect.signature(fn).parameters.values()
        # xlwings supports positional parameters only; optional ones last.
        assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params)
    assert "as_of" in inspect.signature(KA_TIERS).parameters
    assert inspect.signature(KA_TIER).parameters["as_of"].default is None


# --- KA_USCC_OK and kam.uscc --------------------------------------------------------------

# Real, published codes. 91350100M000100Y43 is the example printed in GB 32100-2015;
# 914403001922038216 is 华为技术有限公司 and 91330100716105852F 阿里巴巴（中国）网络技术有限公司
# (both on their business licences); the rest are from python-stdnum's test data
# (tests/test_cn_uscc.doctest, "found online"), covering departments 1 and 9, categories
# 1-3, letters inside the organization code and letter check characters.
REAL = [
    "91350100M000100Y43",
    "914403001922038216",
    "91330100716105852F",
    "121200004013590816",
    "91110000600037341L",
    "9144030071526726XG",
    "91620105L015101280",
    "91340600MA2PBP2120",
    "92340603MA2UK3DT5H",
    "91310115MA1K3BTP2B",
    "9131012056010553X5",
    "92340621MA2UK2XX21",
]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass(code: str) -> None:
    assert uscc_problem(code) is None
    assert uscc_check_char(code[:17]) == code[17]
    assert uscc_ok(code)
    assert KA_USCC_OK(code) is True


def test_check_character_worked_by_hand() -> None:
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4 with weights 1 3 9 27 19 26 16 17 20 29 25
    # 13 8 24 10 30 28: sum = 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640;
    # 1640 mod 31 = 28; 31 - 28 = 3.
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "zh"),
    [
        ("91350100M000100Y4", "应为 18 位，实为 17 位"),
        ("91350100M000100Y433", "应为 18 位，实为 19 位"),
        ("91350100M000100I43", "第 16 位“I”不是允许的字符"),
        ("91350100M0001O0Y43", "第 14 位“O”不是允许的字符"),
        ("91350100Z000100Y43", "第 9 位“Z”不是允许的字符"),
        ("91350100S000100Y43", "第 9 位“S”不是允许的字符"),
        ("91350100V000100Y43", "第 9 位“V”不是允许的字符"),
        ("91350100m000100y43", "第 9 位“m”不是允许的字符"),
        ("B1350100M000100Y43", "第 1 位登记管理部门代码“B”无效"),
        ("94350100M000100Y43", "第 2 位机构类别代码“4”不适用于登记管理部门“9”（应为 1、2、3）"),
        ("Y2350100M000100Y43", "第 2 位机构类别代码“2”不适用于登记管理部门“Y”"),
        ("15350100M000100Y43", "第 2 位机构类别代码“5”不适用于登记管理部门“1”"),
        ("913501A0M000100Y43", "第 3-8 位行政区划码“3501A0”应为 6 位数字"),
    ],
)
def test_structure_problems_are_explained(code: str, zh: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None and problem[0].startswith(zh) and problem[1]
    assert not uscc_ok(code)


def test_every_assigned_department_and_category_is_accepted() -> None:
    expected = {
        "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
        "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
    }  # fmt: skip
    assert expected == CATEGORIES
    for dept in CODE_ALPHABET:
        for cat in CODE_ALPHABET:
            code17 = f"{dept}{cat}110105MA01ABCD1"
            problem = uscc_problem(code17 + uscc_check_char(code17))
            assert (problem is None) == (cat in expected.get(dept, "")), code17


def test_wrong_check_character_fails() -> None:
    assert uscc_problem("91350100M000100Y44") is None  # well formed ...
    assert not uscc_ok("91350100M000100Y44")  # ... but the check character is wrong
    assert KA_USCC_OK("91350100M000100Y44") is False


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("91350100m000100y43", True),  # the reader upper-cases (a `normalized` info)
        (" ９１３５０１００Ｍ０００１００Ｙ４３ ", True),
        ("9135 0100 M000 100Y 43", True),
        ([["91350100M000100Y43"]], True),
        (None, False),
        ("", False),
        (9.1350100e17, False),  # a code typed as a number has lost its last digits
        ("abc", False),
        ([["91350100M000100Y43", "x"]], "参数错误：统一社会信用代码应为单个单元格"),
    ],
)
def test_ka_uscc_ok_cells(cell: object, expected: object) -> None:
    assert KA_USCC_OK(cell) == expected


def test_vectorized_masks_agree_with_the_scalar_checks() -> None:
    values = [*REAL, "91350100M000100Y44", "94350100M000100Y43", "short", None, 12.0, float("nan")]
    s = pd.Series(values, index=range(10, 10 + len(values)), dtype=object)
    fmt, ok = uscc_format_mask(s), uscc_checksum_mask(s)
    assert list(fmt.index) == list(s.index) and fmt.dtype == bool and ok.dtype == bool
    for v, f, o in zip(values, fmt, ok, strict=True):
        text = isinstance(v, str)
        assert f == (text and uscc_problem(v) is None)
        assert o == (text and uscc_ok(v))
    assert not uscc_format_mask(pd.Series([], dtype=object)).any()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.sampled_from(sorted(CATEGORIES)))
def test_made_codes_are_valid(seed: int, dept: str) -> None:
    code = make_uscc(seed, dept=dept)
    assert uscc_ok(code) and code[0] == dept
    assert uscc_checksum_mask(pd.Series([code])).tolist() == [True]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(0, 17), st.integers(1, 30))
def test_changing_any_one_character_breaks_the_check(seed: int, pos: int, step: int) -> None:
    code = make_uscc(seed)
    new = CODE_ALPHABET[(CODE_ALPHABET.index(code[pos]) + step) % 31]  # another allowed char
    changed = code[:pos] + new + code[pos + 1 :]
    assert uscc_check_char(changed[:17]) != changed[17]
    assert not uscc_ok(changed)


# Code characters, look-alikes the reader leaves alone (lower case, I/O/S/V/Z) and decimal
# digits that are not ASCII (Arabic-Indic, Devanagari, mathematical bold).
CODE_CHARS = st.sampled_from([*CODE_ALPHABET, "a", "I", "O", "Z", "٣", "३", "𝟑", "-", " "])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 2**32).map(make_uscc),
            st.integers(0, 2**32).flatmap(
                lambda seed: st.tuples(st.integers(0, 17), CODE_CHARS).map(
                    lambda change: (lambda c: c[: change[0]] + change[1] + c[change[0] + 1 :])(
                        make_uscc(seed)
                    )
                )
            ),
            st.text(CODE_CHARS, min_size=16, max_size=19),
            st.none(),
        ),
        max_size=8,
    )
)
def test_vectorized_masks_agree_with_the_scalar_checks_on_any_text(values: list) -> None:
    fmt, ok = uscc_masks(pd.Series(values, dtype=object))
    for v, f, o in zip(values, fmt, ok, strict=True):
        text = isinstance(v, str)
        assert f == (text and uscc_problem(v) is None), v
        assert o == (text and uscc_ok(v)), v
