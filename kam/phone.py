"""Mainland China phone numbers as Chinese offices write them, checked column-wise.

phonenumbers' `is_valid_number` was tried and not used as the check: its metadata rejects
plausible landlines of areas with 7-digit numbers and lags new mobile prefixes, and it does
not understand extensions written as 转/分机. The shape rules below are what the group's
forms need: a mobile (1[3-9] + 9 digits), a landline with area code, or a 400/800 line,
each optionally with +86/0086 and an extension.
"""

from __future__ import annotations

import pandas as pd

EXTENSION_RE = r"(?i)\s*(?:转|分机|ext\.?|x|#)\s*\d{1,6}$"
COUNTRY_RE = r"^(?:\+|00)\s*86[\s\-]*"
MOBILE_RE = r"^1[3-9]\d{9}$"
LANDLINE_RE = r"^(?:\(0\d{2,3}\)|0\d{2,3})[\s\-]?[2-9]\d{6,7}(?:[\s\-]\d{1,6})?$"
COMPACT_LANDLINE_RE = r"^0\d{2,3}[2-9]\d{6,7}$"
SERVICE_RE = r"^[48]00[\s\-]?\d{3}[\s\-]?\d{4}$"


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
    # "+86-10-12345678" drops the trunk 0 of the area code; put it back.
    bare = national.str.replace(r"[\s\-()]", "", regex=True)
    needs_zero = has_country & ~bare.str.match(MOBILE_RE) & ~bare.str.startswith("0")
    national = national.where(~needs_zero, "0" + national)
    compact = national.str.replace(r"[\s\-()]", "", regex=True)
    return (
        compact.str.match(MOBILE_RE)
        | national.str.match(LANDLINE_RE)
        | compact.str.match(COMPACT_LANDLINE_RE)
        | national.str.match(SERVICE_RE)
    ).astype(bool)


def phone_ok(value: str) -> bool:
    """One phone number (for single values at the edge)."""
    return bool(phone_ok_mask(pd.Series([value], dtype=object)).iloc[0])
