"""`date_future`: a date after today, or after the quarter's as-of date where the form says so."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import DateBound

RULE = "date_future"

BOUND_NAMES = {
    DateBound.TODAY: ("今天", "today"),
    DateBound.AS_OF: ("报送季度末", "the end of the quarter"),
}


def check(ctx: CheckContext) -> Iterator[Finding]:
    bounds = {DateBound.TODAY: ctx.today, DateBound.AS_OF: ctx.as_of}
    for data, f in ctx.fields(lambda f: f.not_after is not None):
        assert f.not_after is not None
        bound = bounds[f.not_after]
        if bound is None:  # no readable quarter: the quarter's own finding says so
            continue
        late = data.frame[f.id] > pd.Timestamp(bound)
        zh, en = BOUND_NAMES[f.not_after]
        yield from data.emit(
            ctx.file,
            RULE,
            f.id,
            late,
            {"bound": bound.isoformat(), "bound_name": zh, "bound_name_en": en},
        )
