"""Phone shapes: the bare-mobile shortcut decides exactly as the full written-form check."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.phone import _written_ok, phone_ok, phone_ok_mask

GOOD = [
    "13800138000",
    "+86 138 0013 8000",
    "0086-13800138000",
    "010-12345678",
    "010-12345678转801",
    "(0755)22345678",
    "0571-87654321",
    "400-800-1234",
    "+86-10-12345678",
    "02112345678 ext. 12",
    # As offices write them (issue 19): service lines grouped any way, +86 in brackets or
    # as a bare 86-, extensions with 分机：/分机号/（分机…）/转…/….
    "+86 400 123 4567",
    "4008-517-517",
    "400-8517-517",
    "800-8208-820",
    "(+86)13800138000",
    "86-13800138000",
    "010-12345678分机：801",
    "010-12345678（分机801）",
    "0571-87654321分机号801",
    "010-12345678转801/802",
    "0571-8765432",
    "010-6552 1234",
]
BAD = [
    "1380013800",
    "12800138000",
    "123",
    "abc",
    "138001380000",
    "0101234567",
    "",
    # The local part after the area code, as written, has 7-8 digits.
    "010-123456789",
    "0755-123456",
    "(0755)123456",
]


@pytest.mark.parametrize("number", GOOD)
def test_numbers_offices_write_are_accepted(number: str) -> None:
    assert phone_ok(number)


@pytest.mark.parametrize("number", BAD)
def test_malformed_numbers_are_refused(number: str) -> None:
    assert not phone_ok(number)


PHONE_TEXT = st.one_of(
    st.text(alphabet="0123456789+-() 转分机号：（）/ext.x#٠١", max_size=16),
    st.from_regex(r"1[0-9]\d{9}", fullmatch=True),
    st.sampled_from(GOOD + BAD),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PHONE_TEXT, min_size=1, max_size=20))
def test_the_mobile_shortcut_decides_as_the_full_check(values: list[str]) -> None:
    series = pd.Series(values, dtype=object)
    assert phone_ok_mask(series).tolist() == _written_ok(series).tolist()


AREA = st.sampled_from(["010", "021", "0755", "0571", "0991"])
EXTENSION = st.sampled_from(
    ["", "转801", "分机：801", "（分机801）", "分机号801", "转801/802", " ext. 12"]
)


@settings(max_examples=300, deadline=None)
@given(AREA, st.sampled_from(["-", " ", "()"]), st.integers(1, 11), st.data())
def test_the_local_part_as_written_has_7_or_8_digits(
    area: str, sep: str, length: int, data: st.DataObject
) -> None:
    local = data.draw(st.from_regex(rf"[2-9]\d{{{length - 1}}}", fullmatch=True))
    written = f"({area}){local}" if sep == "()" else f"{area}{sep}{local}"
    written += data.draw(EXTENSION)
    assert phone_ok(written) == (7 <= length <= 8), written


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["", "+86 ", "+86-", "0086 ", "(+86)", "86-"]),
    st.from_regex(r"1[3-9]\d{9}|[48]00\d{7}", fullmatch=True),
    EXTENSION,
)
def test_country_prefix_and_extension_keep_a_good_number_good(
    prefix: str, number: str, extension: str
) -> None:
    assert phone_ok(prefix + number + extension)
    grouped = f"{number[:4]}-{number[4:7]}-{number[7:]}"  # 4008-517-517
    assert phone_ok(prefix + grouped + extension)
