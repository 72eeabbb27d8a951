"""`completeness`: an expected info-card field is empty; also the file's 档案完整率."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import CARDS
from kam.submission import Submission

RULE = "completeness"


def check(ctx: CheckContext) -> Iterator[Finding]:
    data = ctx.submission.sheets.get(CARDS.id)
    if data is None:
        return
    for f in CARDS.data_fields:
        if f.expected and f.id in data.present:
            yield from data.emit(ctx.file, RULE, f.id, data.missing(f.id))


def ratio(sub: Submission) -> float | None:
    """Share of filled expected info-card fields (None when there are no cards)."""
    data = sub.sheets.get(CARDS.id)
    expected = [f.id for f in CARDS.data_fields if f.expected]
    if data is None or data.frame.empty:
        return None
    filled = sum(int((~data.missing(fid)).sum()) for fid in expected)
    return float(filled) / (len(data.frame) * len(expected))
