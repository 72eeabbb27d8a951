"""`completeness`: an expected info-card field is empty, or a roster customer has no card.

Also the file's 档案完整率: filled expected fields over every roster customer's expected
fields, a customer with no card counting as a card with every expected field empty
(DOMAIN §2.4). Cards whose code is not in the roster are not counted (unknown_customer
reports them); without a roster sheet the rate is over the cards alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import CARDS, ROSTER
from kam.submission import SheetData, Submission

RULE = "completeness"


def check(ctx: CheckContext) -> Iterator[Finding]:
    data = ctx.submission.sheets.get(CARDS.id)
    if data is not None:
        for f in CARDS.data_fields:
            if f.expected and f.id in data.present:
                yield from data.emit(ctx.file, RULE, f.id, data.missing(f.id))
    roster = ctx.submission.sheets.get(ROSTER.id)
    if roster is not None and "uscc" in roster.present:
        # A malformed code is reported by uscc_format/uscc_checksum on that cell already.
        _, checksum_ok = ctx.code_verdicts[ROSTER.id, "uscc"]
        without = _without_card(roster, data) & ctx.valid(roster, "uscc") & checksum_ok
        yield from roster.emit(ctx.file, RULE, "uscc", without, {"variant": "card_missing"})


def _keys(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v.strip().upper() or None if isinstance(v, str) else None)


def _without_card(roster: SheetData, cards: SheetData | None) -> pd.Series:
    """Roster rows (first of each code) whose code has no card row."""
    keys = _keys(roster.frame["uscc"])
    have = (
        set() if cards is None or "uscc" not in cards.present else set(_keys(cards.frame["uscc"]))
    )
    return keys.notna() & ~keys.duplicated() & ~keys.isin(have - {None})


def ratio(sub: Submission) -> float | None:
    """Share of filled expected card fields over every roster customer (None: no one)."""
    data = sub.sheets.get(CARDS.id)
    roster = sub.sheets.get(ROSTER.id)
    expected = [f.id for f in CARDS.data_fields if f.expected]
    have_cards = data is not None and not data.frame.empty
    if roster is None or "uscc" not in roster.present:
        if not have_cards:
            return None
        filled = sum(int((~data.missing(fid)).sum()) for fid in expected)
        return float(filled) / (len(data.frame) * len(expected))
    customers = set(_keys(roster.frame["uscc"]).dropna())
    if not customers:
        return None
    filled = 0
    if have_cards and "uscc" in data.present:
        keys = _keys(data.frame["uscc"])
        first = keys.isin(customers) & ~keys.duplicated()  # each customer's first card
        filled = sum(int(((~data.missing(fid)) & first).sum()) for fid in expected)
    return float(filled) / (len(customers) * len(expected))
