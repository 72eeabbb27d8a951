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
from kam.register import store
from kam.register.archive import drop_archived, drop_refiled, split
from kam.register.assess import assess_register, register_as_of
from kam.register.changes import quarter_changes
from kam.register.columns import (
    HQ_FIELDS,
    REG_BY_SOURCE,
    REG_ROSTER,
)
from kam.register.edits import EditReport, judge
from kam.register.inbox import scan_inbox
from kam.register.inputs import rejected_inputs
from kam.register.intake import (
    REJECTED as REJECTED_STATUS,
)
from kam.register.intake import (
    SUPERSEDED,
    FileOutcome,
    Intake,
    IntakeSettings,
    file_hash,
)
from kam.register.limits import SheetLimits
from kam.register.owners import Conflict, resolve
from kam.register.previous import Previous, read_previous, read_sources
from kam.register.reading import fresh_files, read_ahead
from kam.register.records import copy_of, known_hashes, refused_rows, source_records, unchanged
from kam.register.repeats import Repeats, credit
from kam.register.resubmit import supersede
from kam.register.safety import HISTORY_DIR, register_lock, write_atomically
from kam.register.settle import count_repeats, settle, with_removed
from kam.register.state import assemble
from kam.register.submissions import (
    branch_list_changed,
    guess_branches,
    missing_branches,
    submissions,
    unreadable_branches,
)
from kam.register.writer import RegisterData, write_register
from kam.rules import Rules, load_rules

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
    limits: SheetLimits = field(default_factory=SheetLimits)  # tests use small ones
    files_at_once: int = 2  # inbox files read at the same time (kam.register.reading)


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
    swept: list[str] = field(default_factory=list)  # temp debris of a killed earlier run
    inputs: list[dict[str, Any]] = field(default_factory=list)  # customers with rejected rows
    skipped: list[dict[str, Any]] = field(default_factory=list)  # inbox entries not read
    unreadable_branches: list[str] = field(default_factory=list)  # sent only unreadable files
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
            "swept": self.swept,
            "customers": self.inputs,
            "skipped": self.skipped,
            "unreadable_branches": self.unreadable_branches,
            "notices_due": self.notices_due,
        }

    @property
    def has_errors(self) -> bool:
        """True when a file or a row was rejected (exit code 1)."""
        return any(
            f.status == REJECTED_STATUS or (f.rejected and f.status != SUPERSEDED)
            for f in self.files
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
    scan = scan_inbox(inbox, register)
    files = scan.files
    swept: list[Path] = []
    with register_lock(register, swept):
        # The inbox is read while the old register is: which files are new is known from
        # the register's small _kam_sources sheet alone.
        known = known_hashes(read_sources(register))
        outcomes: list[FileOutcome] = []
        intakes: list[Intake] = []
        seen: list[tuple[FileOutcome, dict[str, Any]]] = []
        this_run: dict[str, FileOutcome] = {}
        shas = [file_hash(path) for path, _ in files]
        fresh = fresh_files(files, shas, known)
        intake_settings = IntakeSettings(today=today, rules=rules)
        with read_ahead(fresh, intake_settings, settings.files_at_once) as reads:
            prev = read_previous(register)
            for i, ((_, name), sha) in enumerate(zip(files, shas, strict=True), start=1):
                report(Step(f"读取 {name}", i - 1, len(files), reading=True))
                if sha in this_run:  # the same bytes twice (a renamed copy): count them once
                    outcomes.append(copy_of(this_run[sha], name))
                    continue
                if sha in known:
                    outcomes.append(unchanged(known[sha], name))
                    seen.append((outcomes[-1], known[sha]))
                    this_run[sha] = outcomes[-1]
                    continue
                intake = next(reads)  # this file's: files are read in order, two at a time
                intakes.append(intake)
                outcomes.append(intake.outcome)
                this_run[sha] = intake.outcome
        guess_branches(intakes, outcomes, prev.sources, settings.branches)
        supersede(intakes, seen, prev.sources)
        if not intakes and not branch_list_changed(prev, settings.branches):
            report(Step("所有文件均未变化，名录保持不变", len(files), len(files)))
            own = resolve(prev.tables.get("roster", _blank_claims()))
            result = _result(settings, register, outcomes, own.conflicts, prev.sources, False, [])
            result.swept = [p.name for p in swept]
            result.inputs = customer_inputs(prev.view, prev.refused, prev.sources)
            result.skipped = scan.skipped
            result.notices_due = _bankrupt_rows(prev.view)
            return result
        report(Step("合并数据、判定归属、计算等级", len(files), len(files)))
        data, conflicts = _build(prev, intakes, rules, settings.branches)
        report(Step(f"写入 {register.name}", len(files), len(files)))
        save_register(register, data, settings.limits, settings.keep_history)
        result = _result(settings, register, outcomes, conflicts, data.sources, True, data.notes)
        result.notices_due = data.insight.notices_due if data.insight else 0
        result.edits = judged_edits(register, prev, data, _replaced(intakes))
        result.swept = [p.name for p in swept]
        result.inputs = customer_inputs(data.roster, data.refused, data.sources)
        result.skipped = scan.skipped
        return result


def customer_inputs(
    view: pd.DataFrame, refused: pd.DataFrame, sources: pd.DataFrame
) -> list[dict[str, Any]]:
    """`customers` of `kam merge --json`: each customer whose conclusions miss rejected rows."""
    if view.empty:
        return []
    lost = rejected_inputs(view, refused, sources)
    total, left_out = lost.total, lost.any  # each a whole column: computed once, not per row
    return [
        {
            "key": view.at[i, "uscc"],
            "name": view.at[i, "name"],
            "unit": view.at[i, "unit"],
            "rejected_inputs": int(total[i]),
            "rejected_contracts": int(lost.contracts[i]),
            "rejected_logs": int(lost.logs[i]),
            "rejected_risk_reports": int(lost.risk[i]),
            "rejected_files": list(lost.files[i]),
            "missing_sheets": list(lost.sheets[i]),
            "tier_check": view.at[i, "tier_check"] if "tier_check" in view else None,
        }
        for i in view.index
        if left_out[i]
    ]


def save_register(
    register: Path, data: RegisterData, limits: SheetLimits, keep_history: int
) -> None:
    """Write the year archives, the register (atomically, the old one to history/) and the
    register's cache beside it: every writer of a register goes through here."""
    settle(register, data, limits)
    write_atomically(register, lambda tmp: write_register(tmp, data), keep_history)
    store.keep(register, data.cache)


def judged_edits(
    register: Path, prev: Previous, data: RegisterData, replaced: set[tuple[Any, Any]]
) -> EditReport:
    """HQ's hand edits against the register just written; the lost ones also go to a CSV."""
    edits = judge(prev.edits, data.written, data.roster, prev.hq, replaced | data.replaced)
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
    result = MergeResult(register, outcomes, conflicts, totals, missing, written, notes)
    result.unreadable_branches = [b for b in unreadable_branches(sources) if b in settings.branches]
    return result


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
    merged = [it for it in intakes if it.merges]
    replaced = _replaced(intakes)
    names = {it.outcome.file for it in intakes}
    now = dt.datetime.now().replace(microsecond=0)
    for it in merged:
        if "roster" in it.rows:
            it.rows["roster"] = it.rows["roster"].assign(updated=now)
    made = assemble(prev.tables, intakes, prev.sources, replaced, Repeats.from_frame(prev.repeats))
    stores = made.stores
    own = resolve(stores["roster"])
    _count_losers(own.losers, merged)
    view = own.view.copy()
    as_of = register_as_of(view)
    stores, pending = split(stores, as_of, rules)
    repeats = made.repeats or Repeats()
    for frames in pending.values():  # events leaving for the archive need no repeats
        for sid, rows in frames.items():
            repeats.leave(sid, rows)
    if prev.path is not None:
        made.duplicates.update(drop_archived(prev.path, pending))
        stores, again, gone = drop_refiled(prev.path, stores, prev.tables, as_of, rules)
        made.duplicates.update(again)
        for sid, rows in gone.items():
            repeats.leave(sid, rows)
    count_repeats(made, merged)
    refused = refused_rows(prev, intakes, replaced, names)
    sources = source_records(credit(prev.sources, repeats.credits), intakes, replaced, names, now)
    risks = assess_register(view, stores, rules, rejected_inputs(view, refused, sources))
    for f in HQ_FIELDS:
        view[f.id] = view["uscc"].map(lambda k, fid=f.id: prev.hq.get(k, {}).get(fid))
    view = view.reindex(columns=[f.id for f in REG_ROSTER.fields])
    data = RegisterData(
        roster=view,
        tables={form.id: stores[sid] for sid, form in REG_BY_SOURCE.items() if sid != "roster"},
        risks=risks,
        conflicts=own.conflict_rows,
        refused=refused,
        submissions=submissions(sources, branches),
        changes=with_removed(quarter_changes(prev.view, view), made, view),
        sources=sources,
        as_of=as_of,
        risk_rules=rules.risk,
        pending=pending,
        replaced=made.slots,
        repeats=repeats.to_frame(),
    )
    facts = facts_of(view, stores, risks, sources, rules, branches)
    data.insight = merge_insight(prev, facts, rules, branches)
    return data, own.conflicts


def _replaced(intakes: list[Intake]) -> set[tuple[Any, Any]]:
    """The (branch, quarter) slots whose stored rows the merged files replace."""
    return {(it.outcome.branch, it.outcome.quarter) for it in intakes if it.merges}


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
