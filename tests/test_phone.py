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
]
BAD = ["1380013800", "12800138000", "123", "abc", "138001380000", "0101234567", ""]


@pytest.mark.parametrize("number", GOOD)
def test_numbers_offices_write_are_accepted(number: str) -> None:
    assert phone_ok(number)


@pytest.mark.parametrize("number", BAD)
def test_malformed_numbers_are_refused(number: str) -> None:
    assert not phone_ok(number)


PHONE_TEXT = st.one_of(
    st.text(alphabet="0123456789+-() 转分机ext.x#٠١", max_size=16),
    st.from_regex(r"1[0-9]\d{9}", fullmatch=True),
    st.sampled_from(GOOD + BAD),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PHONE_TEXT, min_size=1, max_size=20))
def test_the_mobile_shortcut_decides_as_the_full_check(values: list[str]) -> None:
    series = pd.Series(values, dtype=object)
    assert phone_ok_mask(series).tolist() == _written_ok(series).tolist()
