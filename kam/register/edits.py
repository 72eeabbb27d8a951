"""HQ's hand edits in the register: found when it is read back, judged after the next merge.

HQ works in the register between merges. 人工风险等级 and HQ备注 are carried over by key.
Any other edit of a stored sheet is carried over because the register is its own store; it
is lost only when the next register no longer holds the edited row (a resubmission replaced
it, a newer claim superseded it) or when the edit is in a column every merge recomputes or
in a sheet every merge rebuilds. Those are listed, one by one, in the merge report and in a
CSV file kept in history/ beside the previous register.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kam.injection import csv_cell
from kam.reader import norm_name
from kam.register.columns import HQ_FIELDS, REG_ROSTER, REJECTED, SUBMISSIONS
from kam.register.columnwise import as_grid, joined, per_distinct
from kam.register.fingerprints import (
    COMPUTED_IDS,
    SPECS,
    STORED_SHEETS,
    Fingerprints,
    canon,
    column_digests,
    digest_text,
)
from kam.submission import display

_RECOMPUTED_WHY = {
    True: "该列每次合并都重新计算；如需人工调整风险，请填写“人工风险等级”",
    False: "该列按合同额每次合并重新计算；如有不同意见，请写在“HQ备注”",
}
_HEADER = {f.id: f.header for f in REG_ROSTER.fields}


@dataclass
class EditedRow:
    """A row read back from the register that differs from every row written there."""

    sheet: str
    row: int  # 1-based row of the old register
    values: dict[str, Any]  # field id -> the value read
    fp: str
    columns: tuple[str, ...] = ()  # recomputed columns that differ from what was written


@dataclass
class EditScan:
    """What HQ changed by hand in the old register, as far as its fingerprints tell."""

    known: bool = False  # False: the old register has no fingerprints (or does not exist)
    edited: list[EditedRow] = field(default_factory=list)
    computed: list[EditedRow] = field(default_factory=list)  # roster rows, recomputed columns
    missing: dict[str, int] = field(default_factory=dict)  # written rows not read back
    extra_columns: list[tuple[str, str, int]] = field(default_factory=list)  # sheet, header, n


LOST_HEADERS = ("工作表", "行", "客户", "列", "手工值", "新值", "原因")


@dataclass(frozen=True)
class LostEdit:
    """One hand edit the new register does not keep, and why."""

    sheet: str
    row: int | None
    key: str | None
    columns: tuple[str, ...]
    hand_value: str
    new_value: str
    reason: str

    def cells(self) -> list[object]:
        """The edit as a row under LOST_HEADERS (the CSV and the CLI table)."""
        return [
            self.sheet, self.row or "", self.key or "", "、".join(self.columns),
            self.hand_value, self.new_value, self.reason,
        ]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "key": self.key,
            "columns": list(self.columns),
            "hand_value": self.hand_value,
            "new_value": self.new_value,
            "reason": self.reason,
        }


@dataclass
class EditReport:
    """The merge report's account of HQ's hand edits."""

    known: bool = False
    kept: int = 0
    removed: int = 0  # rows HQ deleted by hand (the deletion stands)
    lost: list[LostEdit] = field(default_factory=list)
    lost_file: Path | None = None  # the CSV listing `lost`, when there is any

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.known,
            "kept": self.kept,
            "removed": self.removed,
            "lost": [e.to_json() for e in self.lost],
            "lost_file": str(self.lost_file) if self.lost_file else None,
        }

    def write_lost(self, path: Path) -> None:
        """The lost edits as a CSV Excel opens (UTF-8 with BOM), formula-like text escaped
        (kam.injection); sets `lost_file`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(LOST_HEADERS)
            out.writerows([csv_cell(v) for v in e.cells()] for e in self.lost)
        self.lost_file = path


ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    REJECTED.sheet: ("uscc",),
    SUBMISSIONS.sheet: ("rejected_sheets",),
}
"""Columns added to a sheet after registers were written: older registers lack them."""


def scan_sheet(
    scan: EditScan, name: str, grid: Sequence[Sequence[Any]], stored: Fingerprints
) -> None:
    """Compare one sheet's rows with the fingerprints written with it."""
    spec = SPECS[name]
    ids = [f.id for f in spec.form.fields]
    by_header = {norm_name(f.header): f.id for f in spec.form.fields}
    header = list(grid[0]) if grid else []
    at: dict[str, int] = {}
    extra: dict[int, str] = {}
    for c, h in enumerate(header):
        fid = by_header.get(norm_name(h))
        if fid is not None and fid not in at:
            at[fid] = c
        elif h not in (None, ""):
            extra[c] = str(h)
    prints = stored.sheets.get(name)
    left = Counter(prints.rows) if prints else Counter()
    computed = prints.computed if prints else {}
    row_at, comp_at, key_at = spec.positions(ids)
    # A register written before a column was added was hashed without it.
    absent = {ids.index(f) for f in ADDED_COLUMNS.get(name, ()) if f not in at}
    row_at = [i for i in row_at if i not in absent]
    body = as_grid(grid[1:])
    # Column by column: canon() once per distinct value, the row hashes from joined columns.
    cells = [_canon_column(body, at.get(f)) for f in ids]
    filled = np.logical_or.reduce([c != "" for c in cells]) if cells else np.zeros(0, bool)
    rows = np.flatnonzero(filled)
    prints_of = joined([cells[i][rows] for i in row_at], "\x1f", len(rows)).tolist()
    keys = cells[key_at][rows].tolist() if key_at is not None else [""] * len(rows)
    edited = 0
    for r, fp, key in zip(rows.tolist(), prints_of, keys, strict=True):
        fp = digest_text(fp)
        values = None
        if left[fp] > 0:
            left[fp] -= 1
        else:
            values = _values(body[r], at)
            scan.edited.append(EditedRow(name, r + 2, values, fp))
            edited += 1
        if key in computed:
            now = column_digests(cells[i][r] for i in comp_at).split(".")
            was = computed[key].split(".")
            cols = tuple(f for f, a, b in zip(spec.computed_ids, now, was, strict=False) if a != b)
            if cols:
                found = values or _values(body[r], at)
                scan.computed.append(EditedRow(name, r + 2, found, fp, cols))
    scan.missing[name] = max(0, sum(left.values()) - edited)
    for c, h in extra.items():
        n = int((_canon_column(body, c) != "").sum())
        if n:
            scan.extra_columns.append((name, h, n))


def _canon_column(body: np.ndarray, c: int | None) -> np.ndarray:
    """canon() of column c of each row ("" where there is no such column)."""
    if c is None or c >= body.shape[1]:
        return np.full(len(body), "", dtype=object)
    return per_distinct(body[:, c], canon, "")


def _values(raw: Sequence[Any], at: Mapping[str, int]) -> dict[str, Any]:
    return {f: (raw[c] if c < len(raw) and raw[c] != "" else None) for f, c in at.items()}


def judge(
    scan: EditScan,
    written: Fingerprints,
    roster: pd.DataFrame,
    hq: Mapping[str, Mapping[str, Any]],
    replaced: set[tuple[Any, Any]],
) -> EditReport:
    """Which of the old register's hand edits the new register keeps, and which it loses."""
    report = EditReport(known=scan.known, removed=sum(scan.missing.values()))
    if not scan.known:
        return report
    left = {name: Counter(p.rows) for name, p in written.sheets.items()}
    for row in scan.edited:
        pool = left.get(row.sheet, Counter())
        if pool[row.fp] > 0:
            pool[row.fp] -= 1
            report.kept += 1
        else:
            report.lost.append(_lost_row(row, replaced))
    new_by_key = _by_key(roster)
    for row in scan.computed:
        report.lost.extend(_lost_computed(row, new_by_key))
    for key, values in hq.items():
        if key not in new_by_key:
            report.lost.append(_lost_hq(key, values))
    for sheet, header, n in scan.extra_columns:
        report.lost.append(
            LostEdit(
                sheet,
                None,
                None,
                (header,),
                f"{n} 个非空单元格",
                "",
                "名录每次合并重新生成，自行增加的列不会保留；请把说明写在“HQ备注”列",
            )
        )
    return report


def _lost_row(row: EditedRow, replaced: set[tuple[Any, Any]]) -> LostEdit:
    key = row.values.get("uscc")
    unit, quarter = row.values.get("source_unit"), row.values.get("quarter")
    if row.sheet not in STORED_SHEETS:
        why = "该表每次合并都重新生成，手工修改不保留"
    elif (unit, quarter) in replaced:
        why = f"{display(unit)} 重新报送后，其 {display(quarter)} 报送的这一行已被新报送替换"
    elif row.sheet == REG_ROSTER.sheet:
        why = "该客户的这一行已被更新的报送或归属判定取代（原认领见“归属冲突”或历史版本）"
    else:
        why = "新名录中没有这一行"
    headers = {f.id: f.header for f in SPECS[row.sheet].form.fields}
    shown = "；".join(f"{headers[k]}={display(v)}" for k, v in row.values.items() if v is not None)
    return LostEdit(row.sheet, row.row, display(key) or None, (), shown, "", why)


def _lost_computed(row: EditedRow, new_by_key: Mapping[str, dict[str, Any]]) -> list[LostEdit]:
    key = display(row.values.get("uscc"))
    new = new_by_key.get(key, {})
    out = []
    for fid in row.columns:
        hand, now = display(row.values.get(fid)), display(new.get(fid))
        if hand != now:  # HQ typed what the merge computes anyway: nothing is lost
            out.append(
                LostEdit(
                    REG_ROSTER.sheet,
                    row.row,
                    key or None,
                    (_HEADER[fid],),
                    hand,
                    now,
                    _RECOMPUTED_WHY[fid.startswith("risk")],
                )
            )
    return out


def _lost_hq(key: str, values: Mapping[str, Any]) -> LostEdit:
    filled = [f for f in HQ_FIELDS if values.get(f.id) not in (None, "")]
    return LostEdit(
        REG_ROSTER.sheet,
        None,
        key,
        tuple(f.header for f in filled),
        "；".join(display(values.get(f.id)) for f in filled),
        "",
        "该客户已不在新名录中（本次报送不再包含它），HQ 列随之移除；原值见 history 中的上一版",
    )


def _by_key(roster: pd.DataFrame) -> dict[str, dict[str, Any]]:
    if roster.empty:
        return {}
    cols = ["uscc", *COMPUTED_IDS]
    return {
        display(r[0]): dict(zip(COMPUTED_IDS, r[1:], strict=True))
        for r in roster.reindex(columns=cols).itertuples(index=False, name=None)
        if isinstance(r[0], str) and r[0]
    }
