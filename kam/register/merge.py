"""Consolidation of a folder of branch files into the HQ register (DOMAIN §5).

The register is the store: its data sheets hold every merged row with 来源单位, 来源文件
and 报送季度; a hidden sheet holds each merged file's content hash. A merge reads the old
register (python-calamine), drops the rows of every (branch, quarter) that was submitted
again, adds the new rows, recomputes ownership, tiers and changes, and writes a new
register atomically under a lock. Files whose bytes were merged before are "unchanged";
when every file is unchanged, the register is not rewritten at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kam.errors import UsageError
from kam.insight.build import facts_of, merge_insight
from kam.register.assess import assess_register, register_as_of
from kam.register.changes import quarter_changes
from kam.register.columns import (
    HQ_FIELDS,
    REG_BY_SOURCE,
    REG_ROSTER,
    REJECTED,
    SOURCES,
    SUBMISSIONS,
)
from kam.register.edits import EditReport, judge
from kam.register.intake import (
    REJECTED as REJECTED_STATUS,
)
from kam.register.intake import (
    STATUS_TEXT,
    UNCHANGED,
    FileOutcome,
    Intake,
    IntakeSettings,
    file_hash,
    take_in,
)
from kam.register.owners import Conflict, resolve
from kam.register.previous import Previous, read_previous
from kam.register.safety import HISTORY_DIR, register_lock, write_atomically
from kam.register.writer import RegisterData, write_register
from kam.rules import Rules, load_rules

NOT_SUBMITTED = "未报送"
SUPERSEDED = "superseded"  # internal status of a hidden source record, never reported
SKIPPED_PREFIXES = ("~$", ".")  # Excel lock files and hidden files are not submissions


LOST_EDITS_NAME = "未保留的手工修改.csv"


@dataclass(frozen=True)
class MergeSettings:
    """What to merge into which register, judged against which rules and date."""

    register: Path
    inbox: Path
    rules: Rules | None = None
    today: dt.date | None = None
    branches: tuple[str, ...] = ()  # known branch list, to name non-submitters
    keep_history: int = 10


@dataclass
class MergeResult:
    """Everything `kam merge --json` reports (DOMAIN §7.1) and what the CLI prints."""

    register: Path
    files: list[FileOutcome]
    conflicts: list[Conflict]
    totals: dict[str, int]
    missing_branches: list[str]
    written: bool = True  # False when every file was unchanged
    cut_cells: list[str] | None = None  # texts cut at Excel's cell limit
    edits: EditReport = field(default_factory=EditReport)  # HQ's hand edits: kept or lost
    notices_due: int = 0  # customers under a bankruptcy warning: one 预警通报 each (kam notice)

    def to_json(self) -> dict[str, Any]:
        return {
            "register": str(self.register),
            "files": [f.to_json() for f in self.files],
            "conflicts": [c.to_json() for c in self.conflicts],
            "totals": self.totals,
            "missing_branches": self.missing_branches,
            "written": self.written,
            "cut_cells": list(self.cut_cells or ()),
            "hand_edits": self.edits.to_json(),
            "notices_due": self.notices_due,
        }

    @property
    def has_errors(self) -> bool:
        """True when a file or a row was rejected (exit code 1)."""
        return self.totals["rejected"] > 0 or any(f.status == REJECTED_STATUS for f in self.files)


def inbox_files(inbox: Path) -> list[Path]:
    """Every regular file of the inbox folder, in name order (any file name)."""
    return sorted(
        p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(SKIPPED_PREFIXES)
    )


@dataclass(frozen=True)
class Step:
    """A progress report of a merge: what it is doing, and how many of the files are read."""

    text: str
    done: int
    total: int
    reading: bool = False  # True while files are read, False for the phases after

    def __str__(self) -> str:
        return f"[{self.done + 1}/{self.total}] {self.text}" if self.reading else self.text


def merge(settings: MergeSettings, progress: Callable[[Step], None] | None = None) -> MergeResult:
    """Merge every file of the inbox into the register; see the module docstring."""
    report = progress or (lambda _step: None)
    register = Path(settings.register)
    rules = settings.rules or load_rules()
    today = settings.today or dt.date.today()
    inbox = Path(settings.inbox)
    if not inbox.is_dir():
        raise UsageError(f"找不到报送文件夹 {inbox}，请确认路径")
    files = inbox_files(inbox)
    with register_lock(register):
        prev = read_previous(register)
        known = _known_hashes(prev)
        outcomes: list[FileOutcome] = []
        intakes: list[Intake] = []
        for i, path in enumerate(files, start=1):
            report(Step(f"读取 {path.name}", i - 1, len(files), reading=True))
            sha = file_hash(path)
            if sha in known:
                outcomes.append(_unchanged(known[sha], path.name))
                continue
            intake = take_in(path, sha, IntakeSettings(today=today, rules=rules))
            intakes.append(intake)
            outcomes.append(intake.outcome)
        _supersede(intakes)
        if not intakes:
            report(Step("所有文件均未变化，名录保持不变", len(files), len(files)))
            own = resolve(prev.tables.get("roster", _blank_claims()))
            done = _result(settings, register, outcomes, own.conflicts, prev.sources, False, [])
            done.notices_due = _bankrupt_rows(prev.view)
            return done
        report(Step("合并数据、判定归属、计算等级", len(files), len(files)))
        data, conflicts = _build(prev, intakes, rules, settings.branches)
        report(Step(f"写入 {register.name}", len(files), len(files)))
        write_atomically(register, lambda tmp: write_register(tmp, data), settings.keep_history)
        result = _result(settings, register, outcomes, conflicts, data.sources, True, data.notes)
        result.notices_due = data.insight.notices_due if data.insight else 0
        result.edits = judged_edits(register, prev, data, _replaced(intakes))
        return result


def judged_edits(
    register: Path, prev: Previous, data: RegisterData, replaced: set[tuple[Any, Any]]
) -> EditReport:
    """HQ's hand edits against the register just written; the lost ones also go to a CSV."""
    edits = judge(prev.edits, data.written, data.roster, prev.hq, replaced)
    if edits.lost:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        edits.write_lost(register.parent / HISTORY_DIR / f"{stamp}.{LOST_EDITS_NAME}")
    return edits


def _result(
    settings: MergeSettings,
    register: Path,
    outcomes: list[FileOutcome],
    conflicts: list[Conflict],
    sources: pd.DataFrame,
    written: bool,
    notes: list[str],
) -> MergeResult:
    totals = {
        k: sum(getattr(o, k) for o in outcomes)
        for k in ("rows_in", "merged", "rejected", "duplicate")
    }
    missing = missing_branches(sources, settings.branches)
    return MergeResult(register, outcomes, conflicts, totals, missing, written, notes)


def _latest_quarter(sources: pd.DataFrame) -> str | None:
    quarters = [q for q in sources.get("quarter", ()) if isinstance(q, str) and q]
    return max(quarters) if quarters else None


def missing_branches(sources: pd.DataFrame, branches: tuple[str, ...]) -> list[str]:
    """Known branches with no file (merged or rejected) for the register's latest quarter."""
    latest = _latest_quarter(sources)
    done = set(sources.loc[sources["quarter"] == latest, "unit"]) if latest else set()
    return [b for b in branches if b not in done]


def _known_hashes(prev: Previous) -> dict[str, dict[str, Any]]:
    src = prev.sources
    if src.empty:
        return {}
    return {str(r["sha256"]): r for r in src.to_dict(orient="records") if r.get("sha256")}


def _unchanged(record: dict[str, Any], name: str) -> FileOutcome:
    """A file whose exact bytes were merged (or refused) before, with its stored counts."""
    base: dict[str, Any] = {
        "file": name,
        "branch": record.get("unit"),
        "quarter": record.get("quarter"),
        "sha256": str(record.get("sha256") or ""),
    }
    if record.get("status") == SUPERSEDED:
        return FileOutcome(
            **base, status=UNCHANGED, reason="该文件已被同单位同季度的新报送替换，未再合并"
        )
    counts = {k: _int(record.get(k)) for k in ("rows_in", "merged", "rejected", "duplicate")}
    if record.get("status") == REJECTED_STATUS:  # still refused: say so, and exit 1 again
        why = f"与上次整份拒收的文件相同：{record.get('reason') or ''}".rstrip("：")
        return FileOutcome(**base, **counts, status=REJECTED_STATUS, reason=why)
    return FileOutcome(
        **base, **counts, status=UNCHANGED, reason="与已合并的文件内容相同，未重复合并"
    )


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value == value else 0


def _supersede(intakes: list[Intake]) -> None:
    """Two readable files of one branch and quarter: the later 报送日期 (then name) wins."""
    by_slot: dict[tuple[str, str], list[Intake]] = {}
    for it in intakes:
        o = it.outcome
        if o.status != REJECTED_STATUS and o.branch and o.quarter:
            by_slot.setdefault((o.branch, o.quarter), []).append(it)
    for group in by_slot.values():
        group.sort(key=lambda it: (it.outcome.submitted_on or dt.date.min, it.outcome.file))
        keep = group[-1].outcome.file
        for it in group[:-1]:
            it.reject_whole(f"同一单位同一季度有更新的报送文件“{keep}”，本文件未合并", "superseded")


def _bankrupt_rows(view: pd.DataFrame) -> int:
    """Customers of a stored register whose 风险原因 names the bankruptcy rule."""
    if view.empty:
        return 0
    reasons = view["risk_reason"].astype(str)
    return int(view.loc[reasons.str.contains("bankruptcy", regex=False), "uscc"].nunique())


def _blank_claims() -> pd.DataFrame:
    return pd.DataFrame(columns=[f.id for f in REG_ROSTER.fields], dtype=object)


def _build(
    prev: Previous,
    intakes: list[Intake],
    rules: Rules,
    branches: tuple[str, ...],
) -> tuple[RegisterData, list[Conflict]]:
    """The next register's content from the old one and the new files."""
    merged = [it for it in intakes if it.outcome.status != REJECTED_STATUS]
    replaced = _replaced(intakes)
    names = {it.outcome.file for it in intakes}
    now = dt.datetime.now().replace(microsecond=0)
    stores: dict[str, pd.DataFrame] = {}
    for source_id, form in REG_BY_SOURCE.items():
        old = prev.tables.get(source_id)
        parts = [_drop(old, replaced)] if old is not None and len(old) else []
        new = [it.rows[source_id] for it in merged if source_id in it.rows]
        if source_id == "roster":
            new = [p.assign(updated=now) for p in new]
        parts += new
        ids = [f.id for f in form.fields]
        stores[source_id] = _concat(parts, ids)
    own = resolve(stores["roster"])
    _count_losers(own.losers, merged)
    view = own.view.copy()
    risks = assess_register(view, stores, rules)
    for f in HQ_FIELDS:
        view[f.id] = view["uscc"].map(lambda k, fid=f.id: prev.hq.get(k, {}).get(fid))
    view = view.reindex(columns=[f.id for f in REG_ROSTER.fields])
    refused_old = prev.refused
    if len(refused_old):
        keep = ~_slot_mask(refused_old, "unit", replaced) & ~refused_old["file"].isin(names)
        refused_old = refused_old[keep]
    refused = _concat(
        [refused_old, pd.DataFrame([r for it in intakes for r in it.refused])],
        [f.id for f in REJECTED.fields],
    )
    sources = _sources(prev.sources, intakes, replaced, names, now)
    data = RegisterData(
        roster=view,
        tables={form.id: stores[sid] for sid, form in REG_BY_SOURCE.items() if sid != "roster"},
        risks=risks,
        conflicts=own.conflict_rows,
        refused=refused,
        submissions=_submissions(sources, branches),
        changes=quarter_changes(prev.view, view),
        sources=sources,
        as_of=register_as_of(view),
        risk_rules=rules.risk,
    )
    facts = facts_of(view, stores, risks, sources, rules, branches)
    data.insight = merge_insight(prev, facts, rules, branches)
    return data, own.conflicts


def _replaced(intakes: list[Intake]) -> set[tuple[Any, Any]]:
    """The (branch, quarter) slots whose stored rows the merged files replace."""
    return {
        (it.outcome.branch, it.outcome.quarter)
        for it in intakes
        if it.outcome.status != REJECTED_STATUS
    }


def _slot_mask(frame: pd.DataFrame, unit_col: str, slots: set[tuple[Any, Any]]) -> pd.Series:
    pairs = pd.Series(list(zip(frame[unit_col], frame["quarter"], strict=True)), index=frame.index)
    return pairs.isin(slots)


def _drop(old: pd.DataFrame, replaced: set[tuple[Any, Any]]) -> pd.DataFrame:
    """The old rows minus those of every (branch, quarter) submitted again."""
    return old[~_slot_mask(old, "source_unit", replaced)]


def _concat(parts: list[pd.DataFrame], ids: list[str]) -> pd.DataFrame:
    parts = [p.reindex(columns=ids).astype(object) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=ids, dtype=object)
    return pd.concat(parts, ignore_index=True)


def _count_losers(losers: pd.DataFrame, merged: list[Intake]) -> None:
    """A new roster row that lost an ownership conflict is a duplicate of the kept claim."""
    if losers.empty:
        return
    by_file = {(it.outcome.file, it.outcome.branch, it.outcome.quarter): it for it in merged}
    for rec in losers[["source_file", "source_unit", "quarter"]].itertuples(index=False):
        it = by_file.get(tuple(rec))
        if it is not None:
            it.outcome.merged -= 1
            it.outcome.duplicate += 1


def _sources(
    old: pd.DataFrame,
    intakes: list[Intake],
    replaced: set[tuple[Any, Any]],
    names: set[str],
    now: dt.datetime,
) -> pd.DataFrame:
    """The hidden per-file record: what the next merge compares hashes against."""
    ids = [f.id for f in SOURCES.fields]
    if len(old):
        old = old[~old["file"].isin(names)].copy()
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
            "reason": o.reason,
            "sha256": o.sha256,
            "merged_at": now,
            "submitted_on": o.submitted_on,
        }
        for o in (it.outcome for it in intakes)
    ]
    return _concat([old, pd.DataFrame(new)], ids)


def _submissions(sources: pd.DataFrame, branches: tuple[str, ...]) -> pd.DataFrame:
    """报送情况: one row per file merged or rejected, then the branches that did not submit."""
    ids = [f.id for f in SUBMISSIONS.fields]
    rows = sources[sources["status"] != SUPERSEDED].reindex(columns=ids)
    rows["status"] = rows["status"].map(lambda s: STATUS_TEXT.get(s, s))
    latest = _latest_quarter(sources)
    absent = [
        {"unit": b, "quarter": latest, "status": NOT_SUBMITTED, "reason": "本季度未收到报送文件"}
        for b in missing_branches(sources, branches)
    ]
    return _concat([rows, pd.DataFrame(absent)], ids)
