"""The register's records of files and refusals: outcomes of files not read again, the hidden
per-file record (_kam_sources) and 拒收记录, each carried over and updated by a merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kam.register.columns import REJECTED, SOURCES
from kam.register.intake import REJECTED as REJECTED_STATUS
from kam.register.intake import SUPERSEDED, UNCHANGED, FileOutcome, Intake
from kam.register.previous import Previous
from kam.register.submissions import concat_rows


def known_hashes(src: pd.DataFrame) -> dict[str, dict[str, Any]]:
    if src.empty:
        return {}
    return {str(r["sha256"]): r for r in src.to_dict(orient="records") if r.get("sha256")}


def unchanged(record: dict[str, Any], name: str) -> FileOutcome:
    """A file whose exact bytes were merged (or refused) before, with its stored counts."""
    base: dict[str, Any] = {
        "file": name,
        "branch": record.get("unit"),
        "quarter": record.get("quarter"),
        "sha256": str(record.get("sha256") or ""),
    }
    counts = {k: _int(record.get(k)) for k in ("rows_in", "merged", "rejected", "duplicate")}
    if record.get("status") == SUPERSEDED:  # its rows are not in the register: none merged
        rows = counts["rows_in"]
        return FileOutcome(
            **base,
            rows_in=rows,
            rejected=rows,
            status=SUPERSEDED,
            reason="该文件已被同单位同季度的新报送取代，未再合并",
        )
    if record.get("status") == REJECTED_STATUS:  # still refused: say so, and exit 1 again
        why = f"与上次整份拒收的文件相同：{record.get('reason') or ''}".rstrip("：")
        return FileOutcome(**base, **counts, status=REJECTED_STATUS, reason=why)
    return FileOutcome(
        **base, **counts, status=UNCHANGED, reason="与已合并的文件内容相同，未重复合并"
    )


def copy_of(first: FileOutcome, name: str) -> FileOutcome:
    """A file with the same bytes as one read earlier in this run: all its rows duplicate."""
    return FileOutcome(
        file=name,
        branch=first.branch,
        quarter=first.quarter,
        status=UNCHANGED,
        rows_in=first.rows_in,
        duplicate=first.rows_in,
        reason=f"与本次的“{first.file}”内容完全相同，按重复文件处理，未再合并",
        sha256=first.sha256,
    )


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value == value else 0


def refused_rows(
    prev: Previous, intakes: list[Intake], replaced: set[tuple[Any, Any]], names: set[str]
) -> pd.DataFrame:
    """拒收记录: the old rows of slots not submitted again, then this run's refusals."""
    refused_old = prev.refused
    if len(refused_old):
        # A file of the same name refused whole without a known branch is replaced by name.
        again = refused_old["file"].isin(names) & refused_old["unit"].isna()
        refused_old = refused_old[~_slot_mask(refused_old, "unit", replaced) & ~again]
    return concat_rows(
        [refused_old, pd.DataFrame([r for it in intakes for r in it.refused])],
        [f.id for f in REJECTED.fields],
    )


def _slot_mask(frame: pd.DataFrame, unit_col: str, slots: set[tuple[Any, Any]]) -> pd.Series:
    pairs = pd.Series(list(zip(frame[unit_col], frame["quarter"], strict=True)), index=frame.index)
    return pairs.isin(slots)


def source_records(
    old: pd.DataFrame,
    intakes: list[Intake],
    replaced: set[tuple[Any, Any]],
    names: set[str],
    now: dt.datetime,
) -> pd.DataFrame:
    """The hidden per-file record: what the next merge compares hashes against."""
    ids = [f.id for f in SOURCES.fields]
    if len(old):
        # Only a refused record gives way to a new file of its name; a merged one stays
        # until its (branch, quarter) is replaced (the new file may have lost to it).
        old = old[~(old["file"].isin(names) & (old["status"] == REJECTED_STATUS))].copy()
        # Files replaced by a resubmission keep their hash, so that meeting them again in
        # an inbox that still holds them never brings their old rows back.
        gone = _slot_mask(old, "unit", replaced) & (old["status"] != REJECTED_STATUS)
        old.loc[gone, "status"] = SUPERSEDED
        old.loc[gone, "reason"] = "已被同单位同季度的新报送替换"
    new = [
        {
            "unit": o.branch,
            "file": o.file,
            "quarter": o.quarter,
            "status": o.status,
            "rows_in": o.rows_in,
            "merged": o.merged,
            "rejected": o.rejected,
            "duplicate": o.duplicate,
            "missing_sheets": "、".join(o.missing_sheets),
            "rejected_sheets": "；".join(o.rejected_sheets),
            "reason": o.reason,
            "sha256": o.sha256,
            "merged_at": now,
            "submitted_on": o.submitted_on,
            "saved_at": o.saved_at,
            "modified_at": o.modified_at,
        }
        for o in (it.outcome for it in intakes)
    ]
    return concat_rows([old, pd.DataFrame(new)], ids)
