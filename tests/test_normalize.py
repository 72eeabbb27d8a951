"""Property tests of the vectorized normalizers: dates, numbers, codes and full-width text."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
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
