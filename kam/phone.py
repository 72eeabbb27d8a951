"""Mainland China phone numbers as Chinese offices write them, checked column-wise.

phonenumbers' `is_valid_number` was tried and not used as the check: its metadata rejects
plausible landlines of areas with 7-digit numbers and lags new mobile prefixes, and it does
not understand extensions written as 转/分机. The shape rules below are what the group's
forms need: a mobile (1[3-9] + 9 digits), a landline with area code, or a 400/800 line,
each optionally with +86/0086 and an extension.
"""

from __future__ import annotations

import pandas as pd

# An extension as offices write it: 转801, 分机 801, 分机：801, 分机号801, （分机801）, 转801/802,
# ext. 12, x12, #12.
EXTENSION_RE = (
    r"(?i)\s*[(（]?\s*(?:转|分机号?|ext\.?|x|#)\s*[:：]?\s*\d{1,6}(?:\s*[/、,，]\s*\d{1,6})*"
    r"\s*[)）]?$"
)
# +86, 0086, (+86), （+86）, and a bare 86 followed by a separator (86-13800138000).
COUNTRY_RE = r"^(?:[(（]\s*(?:\+|00)?\s*86\s*[)）]|(?:\+|00)\s*86|86(?=[\s\-]))[\s\-]*"
MOBILE_RE = r"^1[3-9]\d{9}$"
# A landline as written: area code (in brackets or not), a separator, then the local number of
# 7-8 digits (judged as written, so 0755-123456 and 010-123456789 are refused), optionally in
# two groups (010-6552 1234) and with a -801 extension.
LANDLINE_RE = (
    r"^(?:\(0\d{2,3}\)[\s\-]?|0\d{2,3}[\s\-])(?:\d{7,8}|\d{3,4}[\s\-]\d{4})(?:[\s\-]\d{1,6})?$"
)
# Written without separators the area code is known by its first digits: 010 and 02x are
# followed by 8 digits, the 3-digit codes (0[3-9]xx) by 7 or 8.
COMPACT_LANDLINE_RE = r"^(?:0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8})$"
# 400/800 service lines: 10 digits grouped as offices like (400-123-4567, 4008-517-517).
SERVICE_RE = r"^[48]00\d{7}$"
SERVICE_WRITTEN_RE = r"^[48]\d{2,3}(?:[\s\-]?\d{3,4}){1,2}$"


def phone_ok_mask(values: pd.Series) -> pd.Series:
    """True where a phone cell (already half-width and trimmed) is a valid number."""
    text = values.astype(str)
    # Most cells are a bare mobile number, which every step below leaves as it is: one
    # match decides those, and the steps run on the rest only.
    ok = text.str.match(MOBILE_RE).astype(bool)
    if not ok.all():
        ok[~ok] = _written_ok(text[~ok])
    return ok


def _written_ok(text: pd.Series) -> pd.Series:
    """phone_ok_mask of text as written: extensions, +86, separators, landlines."""
    text = text.str.strip().str.replace(EXTENSION_RE, "", regex=True)
    has_country = text.str.contains(COUNTRY_RE, regex=True)
    national = text.str.replace(COUNTRY_RE, "", regex=True)
    bare = national.str.replace(r"[\s\-()]", "", regex=True)
    service = bare.str.match(SERVICE_RE) & national.str.match(SERVICE_WRITTEN_RE)
    # "+86-10-12345678" drops the trunk 0 of the area code; put it back.
    needs_zero = has_country & ~bare.str.match(MOBILE_RE) & ~bare.str.startswith("0") & ~service
    national = national.where(~needs_zero, "0" + national)
    compact = national.str.replace(r"[\s\-()]", "", regex=True)
    return (
        compact.str.match(MOBILE_RE)
        | national.str.match(LANDLINE_RE)
        | national.str.match(COMPACT_LANDLINE_RE)  # digits only: no separator to judge by
        | service
    ).astype(bool)


def phone_ok(value: str) -> bool:
    """One phone number (for single values at the edge)."""
    return bool(phone_ok_mask(pd.Series([value], dtype=object)).iloc[0])
