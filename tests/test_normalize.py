"""Property tests of the vectorized normalizers: dates, numbers, codes and full-width text."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kam.forms import Kind
from kam.normalize import FULLWIDTH, normalize

WIDE = {v: k for k, v in FULLWIDTH.items() if v != 0x20}


def widen(text: str) -> str:
    return text.translate(WIDE)


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))


def date_texts(d: dt.date) -> list[str]:
    return [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}.{d.month:02d}.{d.day:02d}",
        f"{d:%Y%m%d}",
        widen(d.isoformat()),
        f" {d.isoformat()} 00:00:00 ",
    ]


@given(dates)
def test_every_written_form_of_a_date_reads_as_that_date(d: dt.date) -> None:
    forms = [*date_texts(d), dt.datetime(d.year, d.month, d.day, 13, 5), d]
    col = normalize(Kind.DATE, pd.Series(forms, dtype=object))
    assert not col.invalid.any()
    assert (col.values == pd.Timestamp(d)).all()
    # text was fixed and says so; real dates were not
    assert col.fixed.tolist() == [True] * 7 + [False, False]


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_excel_serial_numbers_read_as_dates(d: dt.date) -> None:
    serial = float((d - dt.date(1899, 12, 30)).days)
    col = normalize(Kind.DATE, pd.Series([serial], dtype=object))
    assert col.values.iloc[0] == pd.Timestamp(d)


@given(st.text(alphabet="abcxyz!?#", min_size=1, max_size=8))
def test_non_dates_are_invalid_not_guessed(text: str) -> None:
    col = normalize(Kind.DATE, pd.Series([text], dtype=object))
    assert col.invalid.iloc[0]
    assert pd.isna(col.values.iloc[0])


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_numbers_stored_as_text_read_back_exactly(whole: int, cents: int) -> None:
    value = whole + cents / 100
    texts = [f"{whole:,}.{cents:02d}", widen(f"{whole}.{cents:02d}"), f" {whole}.{cents:02d}万元"]
    col = normalize(Kind.NUMBER, pd.Series([*texts, value], dtype=object))
    assert not col.invalid.any()
    assert col.values.round(2).tolist() == [round(value, 2)] * 4
    assert col.fixed.tolist() == [True, True, True, False]


@given(st.integers(min_value=0, max_value=10**6), st.booleans())
def test_integer_columns_reject_fractions(n: int, fraction: bool) -> None:
    value = n + 0.5 if fraction else float(n)
    col = normalize(Kind.INTEGER, pd.Series([value], dtype=object))
    assert bool(col.invalid.iloc[0]) is fraction


CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=CODE_CHARS, min_size=18, max_size=18), st.booleans(), st.booleans())
def test_codes_are_upper_half_width_and_trimmed(code: str, wide: bool, lower: bool) -> None:
    typed = widen(code) if wide else code
    typed = typed.lower() if lower else typed
    col = normalize(Kind.USCC, pd.Series([f"  {typed}\u3000"], dtype=object))
    assert col.values.iloc[0] == code
    assert col.fixed.iloc[0]


def test_an_18_digit_code_stored_as_a_number_is_flagged_not_guessed() -> None:
    col = normalize(Kind.USCC, pd.Series([9.13501e17], dtype=object))
    assert col.invalid.iloc[0]


@given(st.text(min_size=1, max_size=30))
def test_text_keeps_its_content_minus_control_characters_and_edges(text: str) -> None:
    col = normalize(Kind.TEXT, pd.Series([text], dtype=object))
    got = col.values.iloc[0]
    cleaned = "".join(c for c in text if c in "\t\n\r" or (ord(c) >= 0x20 and c != "\x7f")).strip()
    assert (got if isinstance(got, str) else "") == cleaned


def test_chinese_full_width_brackets_in_names_are_kept() -> None:
    name = "中建（北京）投资有限公司"
    col = normalize(Kind.TEXT, pd.Series([name], dtype=object))
    assert col.values.iloc[0] == name
    assert not col.fixed.any()


def test_quarters_in_chinese_are_canonical() -> None:
    texts = ["2026q3", "2026年第三季度", "２０２６Ｑ３", "2026-Q3", "2026Q5"]
    col = normalize(Kind.QUARTER, pd.Series(texts, dtype=object))
    assert col.values.tolist()[:4] == ["2026Q3"] * 4
    assert col.invalid.tolist() == [False, False, False, False, True]


# Cells of every type a reader gives, values repeating (as in a column) and not.
CELLS = st.one_of(
    st.sampled_from(["", " ", "NA", "２０２４年３月１日", "2024-13-45", "1,200"]),
    st.sampled_from(["91350100m000100y43", " 9135 0100 M000 100Y 43"]),
    st.sampled_from(["2026 Q3", "2026年第三季度", "=1+1", "华东分公司 ", "\x07x"]),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.integers(-(10**6), 10**6),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.booleans(),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(Kind)),
    st.lists(CELLS, min_size=1, max_size=6).flatmap(
        lambda distinct: st.lists(st.sampled_from(distinct), min_size=1, max_size=20)
    ),
    st.integers(0, 5),
    st.lists(CELLS.filter(lambda c: c is not None and c == c), max_size=3),
)
def test_a_categorical_column_normalizes_as_its_cells_do(
    kind: Kind, cells: list[object], first_row: int, unused: list[object]
) -> None:
    """A column read as codes into distinct values types exactly as its cells one by one,
    whatever categories no cell uses (a header's text, below which the column starts)."""
    index = pd.RangeIndex(first_row, first_row + len(cells))
    plain = pd.Series(cells, index=index, dtype=object)
    # As the reader builds one: an object Index of the distinct values (no Timestamps).
    missing = [c is None or c != c for c in cells]  # None and NaN: code -1
    keys = [(type(c), repr(c)) for c in cells]
    first = {k: c for k, c, m in zip(keys, cells, missing, strict=True) if not m}
    distinct = list(first.values())
    distinct += [u for u in unused if (type(u), repr(u)) not in first]
    # Categories are unique by equality: a column holding 1 and True, or 0.0 and -0.0, has
    # no categorical form (the reader makes them of strings only).
    assume(pd.Index(distinct, dtype=object).is_unique)
    codes = [-1 if m else list(first).index(k) for k, m in zip(keys, missing, strict=True)]
    categorical = pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object)),
        index=index,
    )
    a, b = normalize(kind, plain), normalize(kind, categorical)
    for got, want in ((b.values, a.values), (b.invalid, a.invalid), (b.fixed, a.fixed)):
        pd.testing.assert_series_equal(got, want)
    assert b.why == a.why
    assert b.blanks().tolist() == a.values.isna().tolist()  # told by code, not cell by cell
