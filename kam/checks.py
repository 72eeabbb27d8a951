"""What every validation rule receives: the typed submission and the dates it is judged on."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from kam.forms import Field, Kind
from kam.rules import Rules
from kam.submission import SheetData, Submission
from kam.uscc import column_masks


@dataclass(frozen=True)
class CheckContext:
    """The input of a rule: typed rows, today, the as-of date and the rules file."""

    submission: Submission
    today: dt.date
    rules: Rules

    @property
    def file(self) -> str:
        return self.submission.file

    @property
    def as_of(self) -> dt.date | None:
        return self.submission.as_of

    @functools.cached_property
    def code_verdicts(self) -> dict[tuple[str, str], tuple[pd.Series, pd.Series]]:
        """(well formed, check character right) of every code column, by (form id, field id).

        Two rules need them (uscc_*, unknown_customer): each distinct code is checked once.
        """
        fields = list(self.fields(lambda f: f.kind is Kind.USCC))
        masks = column_masks([data.frame[f.id] for data, f in fields])
        return {(data.form.id, f.id): m for (data, f), m in zip(fields, masks, strict=True)}

    def fields(self, wanted: Callable[[Field], bool]) -> Iterator[tuple[SheetData, Field]]:
        """Every (sheet rows, field) whose column is present and that `wanted` selects."""
        for data in self.submission.sheets.values():
            for f in data.form.data_fields:
                if f.id in data.present and wanted(f):
                    yield data, f

    def valid(self, data: SheetData, field_id: str):
        """Mask of cells holding a typed value (not blank, not unreadable)."""
        mask = ~data.missing(field_id)
        bad = data.invalid.get(field_id)
        return mask if bad is None else mask & ~bad
