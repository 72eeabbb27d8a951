"""Resubmissions: of the files of one branch and quarter, only the newest is merged.

The candidates of a (branch, quarter) are the readable new files of this run, the files of
this run merged before (their stamps as first recorded) and the file whose rows the
register holds for it, even when it is no longer in the inbox. kam.register.newest orders
them. Every other file of the run is reported `superseded`, whether or not it was merged
before, with its rows counted as rejected (they are not in the register: the newer file's
rows are), so that each run's totals are what the register holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kam.register.intake import MERGED, PARTIAL, SUPERSEDED, FileOutcome, Intake
from kam.register.newest import Stamp, pick, to_ms, why_newer

AMBIGUOUS = "ambiguous"


@dataclass
class _Candidate:
    stamp: Stamp
    intake: Intake | None = None  # a new file of this run
    outcome: FileOutcome | None = None  # a file of this run merged (or superseded) before
    record: dict[str, Any] | None = None  # its stored record (or the register's survivor's)

    @property
    def stored_status(self) -> str | None:
        return None if self.record is None else self.record.get("status")


def supersede(
    intakes: list[Intake],
    seen: list[tuple[FileOutcome, dict[str, Any]]],
    stored: pd.DataFrame,
) -> None:
    """Decide every (branch, quarter) of this run; losers are marked in place."""
    slots: dict[tuple[str, str], list[_Candidate]] = {}
    for it in intakes:
        o = it.outcome
        if it.merges and o.branch and o.quarter:
            slots.setdefault((o.branch, o.quarter), []).append(_Candidate(stamp_of(o), it))
    shas = set()
    for o, rec in seen:
        shas.add(o.sha256)
        if rec.get("status") in (MERGED, PARTIAL, SUPERSEDED) and o.branch and o.quarter:
            cand = _Candidate(stamp_of_record(rec, o.file), outcome=o, record=rec)
            slots.setdefault((o.branch, o.quarter), []).append(cand)
    for rec in _survivors(stored):
        slot = (rec.get("unit"), rec.get("quarter"))
        if slot in slots and rec.get("sha256") not in shas:
            slots[slot].append(_Candidate(stamp_of_record(rec, str(rec.get("file"))), record=rec))
    for (branch, quarter), cands in slots.items():
        _decide(f"{branch} {quarter}", cands)


def _decide(slot: str, cands: list[_Candidate]) -> None:
    beaten = [c for c in cands if c.stored_status == SUPERSEDED]  # lost in an earlier run
    live = [c for c in cands if c.stored_status != SUPERSEDED]
    if not live:
        return
    winner, others = pick([c.stamp for c in live])
    by_stamp = {id(c.stamp): c for c in live}
    if winner is None:
        top = others[0].key
        tied = [by_stamp[id(s)] for s in others if s.key == top]
        held = [c for c in tied if c.intake is None]  # what the register holds wins a tie
        if not held:
            names = "、".join(f"“{c.stamp.file}”" for c in tied)
            for c in live:
                if c.intake is not None:
                    c.intake.reject_whole(
                        f"{slot} 有多份报送：{names}，报送日期、工作簿保存时间与文件修改时间"
                        "都相同，无法判断哪份更新；请只保留一份后重新合并",
                        AMBIGUOUS,
                    )
            for c in beaten:
                _lose(c, c.stamp, slot, "已被同单位同季度的新报送替换")
            return
        winner = held[0].stamp
    for c in [*live, *beaten]:
        if c.stamp is not winner:
            _lose(c, winner, slot, why_newer(winner, c.stamp))


def _lose(c: _Candidate, winner: Stamp, slot: str, why: str) -> None:
    if winner is c.stamp:
        reason = f"本文件“{c.stamp.file}”{why}"
    else:
        reason = (
            f"本文件“{c.stamp.file}”与“{winner.file}”同为 {slot} 的报送，"
            f"“{winner.file}”更新（{why}），本文件未合并"
        )
    if c.intake is not None:
        c.intake.reject_whole(reason, SUPERSEDED)
    elif c.outcome is not None:
        o = c.outcome
        o.status, o.reason = SUPERSEDED, reason
        o.rejected, o.merged, o.duplicate = o.rows_in, 0, 0


def stamp_of(o: FileOutcome) -> Stamp:
    return Stamp(o.file, o.submitted_on, o.saved_at, o.modified_at)


def stamp_of_record(rec: dict[str, Any], file: str) -> Stamp:
    """A stored file's stamp, as recorded when a merge first saw it."""
    return Stamp(
        file,
        _date(rec.get("submitted_on")),
        _time(rec.get("saved_at")),
        _time(rec.get("modified_at")),
    )


def _survivors(stored: pd.DataFrame) -> list[dict[str, Any]]:
    if stored is None or stored.empty:
        return []
    keep = stored["status"].isin([MERGED, PARTIAL])
    return stored[keep].to_dict(orient="records")


def _time(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return to_ms(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return None


def _date(value: object) -> dt.date | None:
    when = _time(value)
    return None if when is None else when.date()
