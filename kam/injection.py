"""Text that a spreadsheet could run as a formula, and how we write it so that it cannot.

Every text cell kam writes (register, annotated copy) that starts, after leading blanks and
control characters, with `=`, `+`, `-`, `@` (or their full-width forms, which Excel in a
CJK locale takes as the same), or starts with a tab or CR, carries Excel's quote prefix:
shown as text, and F2+Enter keeps it text. Every CSV cell of that kind is escaped with a
leading apostrophe (the OWASP CSV-injection rule).
"""

from __future__ import annotations

import re

# Leading characters a user would not see: whitespace (any Unicode space), C0/C1
# controls, zero-width characters and the byte-order mark.
_INVISIBLE = r"\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\u2060-\u2064\ufeff"
_STARTS_FORMULA = re.compile(rf"^(?:[\t\r]|[{_INVISIBLE}]*[=+\-@＝＋－＠])")


def starts_formula(text: str) -> bool:
    """True when a spreadsheet could take this text for a formula (see module docstring)."""
    # Most texts start with a letter, a digit or a Han character: no regex for them.
    return bool(text) and not text[0].isalnum() and _STARTS_FORMULA.match(text) is not None


def csv_cell(value: object) -> object:
    """A value for a CSV we write: formula-like text gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and starts_formula(value):
        return "'" + value
    return value
