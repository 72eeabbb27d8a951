"""The merge's last steps around state and archive: counts, 季度变更, limits, archive files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kam.insight.exposure import EXPOSURE
from kam.insight.trends import HISTORY
from kam.register.archive import write_archives
from kam.register.columns import (
    CHANGES,
    REG_BY_SOURCE,
    REG_ROSTER,
    SOURCES,
)
from kam.register.intake import Intake
from kam.register.limits import SheetLimits, check_sheets
from kam.register.repeats import DUP_NOTE, KEPT_NOTE, OLDER_NOTE, REPEATS
from kam.register.state import Assembly, origin, removed_rows
from kam.register.writer import RegisterData


def count_repeats(made: Assembly, merged: list[Intake]) -> None:
    """Rows that repeat a stored event or an outdated state count as duplicates, and say so."""
    for it in merged:
        o = it.outcome
        dup = made.duplicates.get(origin(o), 0)
        upd = made.updates.get(origin(o), 0)
        if dup:
            o.merged -= dup
            o.duplicate += dup
        notes = [o.reason] if o.reason else []
        newer = made.outdated.get(o.file)
        if newer:
            notes.append(
                f"本单位已合并 {newer} 的报送，本文件（{o.quarter}）的大客户名录、信息登记卡、"
                "合同台账未替换较新的现状，计为重复；其中的事件照常合并"
            )
        older = made.older.get(origin(o), 0)
        if dup > older and not newer:
            notes.append(DUP_NOTE.format(n=dup - older))
        if older:
            notes.append(OLDER_NOTE.format(n=older))
        if upd:
            notes.append(f"{upd} 条事件更新了此前登记的同一事件（如维护记录已闭环）")
        kept = made.repeats.restored.get((o.branch, o.quarter), 0) if made.repeats else 0
        if kept:
            notes.append(KEPT_NOTE.format(n=kept))
        o.reason = "；".join(dict.fromkeys(n for n in notes if n))


def with_removed(changes: pd.DataFrame, made: Assembly, view: pd.DataFrame) -> pd.DataFrame:
    """季度变更 plus the cards and contracts that left a branch's current state."""
    names = dict(zip(view["uscc"], view["name"], strict=True)) if len(view) else {}
    extra = removed_rows(made, names)
    if extra.empty:
        return changes
    ids = [f.id for f in CHANGES.fields]
    return pd.concat([changes, extra.reindex(columns=ids)], ignore_index=True).astype(object)


def register_sheets(data: RegisterData) -> dict[str, pd.DataFrame]:
    """Every data sheet the register will hold, under its form's columns."""
    frames = {REG_ROSTER.sheet: (REG_ROSTER, data.roster)}
    for sid, form in REG_BY_SOURCE.items():
        if sid != "roster":
            frames[form.sheet] = (form, data.tables.get(form.id, pd.DataFrame()))
    for form, frame in (*data.listings(), (SOURCES, data.sources)):
        frames[form.sheet] = (form, frame)
    if data.repeats is not None:
        frames[REPEATS.sheet] = (REPEATS, data.repeats)
    if data.insight is not None:  # 风险敞口 and the hidden trend history grow with the data too
        frames[EXPOSURE.sheet] = (EXPOSURE, data.insight.exposure_table)
        frames[HISTORY.sheet] = (HISTORY, data.insight.history)
    return {
        name: frame.reindex(columns=[f.id for f in form.fields])
        for name, (form, frame) in frames.items()
    }


def settle(register: Path, data: RegisterData, limits: SheetLimits) -> list[Path]:
    """Check every sheet against Excel's limits, then write the archive files (if any).

    Runs before the register is written: a register that would not fit raises UsageError
    and nothing is written. The archive goes first so that an interruption leaves the rows
    in the old register and the archive, and the next merge archives none of them twice.
    """
    check_sheets(register_sheets(data), limits)
    return write_archives(register, data.pending, limits.rows)
