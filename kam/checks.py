"""What every validation rule receives: the typed submission and the dates it is judged on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kam.forms import Field
from kam.rules import Rules
from kam.submission import SheetData, Submission


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

    def fields(self, wanted: Callable[[Field], bool]) -> Iterator[tuple[SheetData, Field]]:
        """Every (sheet rows, field) whose column is present and that `wanted` selects."""
        for data in self.submission.sheets.values():
            for f in data.form.data_fields:
                if f.id in data.present and wanted(f):
                    yield data, f

    def valid(self, data: SheetData, field_id: str):
        """Mask of cells holding a typed value (not blank, not unreadable)."""
        mask = data.frame[field_id].notna()
        bad = data.invalid.get(field_id)
        return mask if bad is None else mask & ~bad
