"""What a pre-filled submission held when HQ wrote it (DOMAIN §9.3, the `_kam_prefill` sheet).

The record travels inside the workbook (a very hidden sheet), not on the server: each
pre-filled row is one line, its sheet, its key and its values as the register held them
(JSON, field id -> the value as a user reads it). Validation compares the rows the branch
sends back with it and reports every changed value as an `info` finding.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kam.forms import CARDS, CONTRACTS, MAINTENANCE, ROSTER, Form
from kam.submission import display

PREFILL_SHEET = "_kam_prefill"
HEADERS = ("工作表", "键", "原值")

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    ROSTER.id: ("uscc",),
    CARDS.id: ("uscc",),
    CONTRACTS.id: ("contract_no",),
    # An event has no code of its own: the day, the customer and what was done name it.
    MAINTENANCE.id: ("date", "uscc", "summary"),
}
"""The fields that find a pre-filled row again, per form; the other forms are not pre-filled."""
FORMS_BY_SHEET: dict[str, Form] = {f.sheet: f for f in (ROSTER, CARDS, CONTRACTS, MAINTENANCE)}


@functools.lru_cache(maxsize=1 << 16, typed=True)  # dates, units and enum words repeat
def _shown_hashable(value: object) -> str:
    return _shown(value)


def shown(value: object) -> str:
    """A value as the user reads it, the same whether it comes from the register or a file."""
    try:
        return _shown_hashable(value)
    except TypeError:  # unhashable
        return _shown(value)


def _shown(value: object) -> str:
    try:
        if value is None or bool(pd.isna(value)):
            return ""
    except (TypeError, ValueError):  # a list-like is no missing value
        pass
    return display(value)


def row_key(form_id: str, values: Mapping[str, Any]) -> str:
    """The key of a row of a pre-filled form, as the record stores it."""
    return "|".join(shown(values.get(fid)) for fid in KEY_FIELDS[form_id])


@dataclass
class PrefillRecord:
    """Pre-filled rows by (form id, key): field id -> value shown."""

    rows: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def add(self, form: Form, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record pre-filled rows of `form` (their data fields only)."""
        ids = [f.id for f in form.data_fields]
        keys = KEY_FIELDS[form.id]
        memo: dict[tuple[type, object], str] = {}  # columns repeat their values

        def text(value: object) -> str:
            key = (type(value), value)
            try:
                return memo[key]
            except KeyError:
                memo[key] = out = shown(value)
                return out
            except TypeError:  # unhashable
                return shown(value)

        for values in rows:
            texts = {fid: text(values.get(fid)) for fid in ids}
            self.rows[(form.id, "|".join(texts[k] for k in keys))] = texts

    def get(self, form_id: str, key: str) -> dict[str, str] | None:
        return self.rows.get((form_id, key))

    def __bool__(self) -> bool:
        return bool(self.rows)

    def lines(self) -> Iterable[tuple[str, str, str]]:
        """The sheet's rows under HEADERS."""
        sheets = {f.id: f.sheet for f in FORMS_BY_SHEET.values()}
        for (form_id, key), values in self.rows.items():
            yield sheets[form_id], key, json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> PrefillRecord:
        """The record read back from the sheet's cells; lines it cannot read are ignored."""
        record = cls()
        for row in rows[1:]:
            if len(row) < 3:
                continue
            form = FORMS_BY_SHEET.get(str(row[0]))
            try:
                values = json.loads(str(row[2]))
            except ValueError:
                continue
            if form is not None and isinstance(values, dict):
                record.rows[(form.id, str(row[1]))] = {str(k): str(v) for k, v in values.items()}
        return record
