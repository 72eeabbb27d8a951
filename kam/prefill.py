"""Next quarter pre-filled (DOMAIN §9.3): each branch's own workbook, written from the register.

A branch gets back its roster, info cards and contract ledger as HQ holds them now (HQ's
corrections and the recorded tier included) and its maintenance entries still open, so that
it updates rather than retypes them. Events of the quarter (receptions, risk reports) start
empty. What was pre-filled is recorded in the workbook itself (kam.prefill_record).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kam.errors import UsageError
from kam.forms import CARDS, CONTRACTS, INFO, MAINTENANCE, PAY_STATUS, ROSTER, YES_NO, Form
from kam.fs import cause_zh
from kam.io.isolate import FORKS
from kam.prefill_record import PrefillRecord, row_key
from kam.register.columns import CONFLICTS, REG_BY_SOURCE, REG_ROSTER
from kam.register.previous import _typed, register_sheets
from kam.rules import Rules, load_rules
from kam.template import Layout, free_name, write_submission
from kam.tiers import window_start

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')  # not allowed in a Windows file name
OVERDUE = PAY_STATUS.values[1]  # 逾期
YES = YES_NO.values[0]
_STATE = (CARDS, CONTRACTS)  # besides the roster: the branch's current state
_SHEETS = (
    REG_ROSTER.sheet,
    CONFLICTS.sheet,
    *(REG_BY_SOURCE[f.id].sheet for f in _STATE),
    REG_BY_SOURCE[MAINTENANCE.id].sheet,
)


@dataclass(frozen=True)
class PrefillSettings:
    """Which register, for which quarter and branches, into which folder."""

    register: Path
    quarter: str
    out_dir: Path
    branches: tuple[str, ...] = ()  # none: every branch the register holds customers of
    rules: Rules | None = None
    parallel_from: int = 4  # from this many branches on, two processes write (where fork is)


@dataclass
class BranchPrefill:
    """One branch's pre-filled workbook: where it went and how many rows each sheet got."""

    branch: str
    path: Path
    counts: dict[str, int]
    given_away: list[str] = field(default_factory=list)  # customers now owned by another unit

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "file": str(self.path),
            "rows": self.counts,
            "given_away": self.given_away,
        }


def quarter_end(quarter: str) -> dt.date:
    """The last day of a `YYYYQn` quarter; a usage error for anything else."""
    m = QUARTER_RE.match(quarter.strip())
    if m is None:
        raise UsageError(f"报送季度应写作 YYYYQn（如 2026Q4），收到“{quarter}”")
    year, n = int(m[1]), int(m[2])
    return (pd.Timestamp(year=year, month=n * 3, day=1) + pd.offsets.MonthEnd(0)).date()


def next_quarter(quarter: str) -> str:
    """The quarter after a `YYYYQn` quarter."""
    end = quarter_end(quarter)
    return f"{end.year + 1}Q1" if end.month == 12 else f"{end.year}Q{end.month // 3 + 1}"


def latest_quarter(register: Path) -> str | None:
    """The latest 报送季度 the register's roster holds, if any."""
    quarters = [q for q in _read(register)[REG_ROSTER.id]["quarter"] if isinstance(q, str)]
    return max((q for q in quarters if QUARTER_RE.match(q)), default=None)


def prefill(settings: PrefillSettings) -> list[BranchPrefill]:
    """Write one pre-filled submission per branch; the files never replace existing ones."""
    rules = settings.rules or load_rules()
    as_of = quarter_end(settings.quarter)
    quarter = settings.quarter.strip()
    tables = _read(Path(settings.register))
    roster = tables[REG_ROSTER.id]
    known = sorted({u for u in roster["source_unit"] if isinstance(u, str) and u})
    branches = list(dict.fromkeys(settings.branches)) or known
    unknown = [b for b in branches if b not in known]
    if unknown:
        raise UsageError(
            f"名录中没有这些单位的客户：{'、'.join(unknown)}。"
            f"名录中的单位：{'、'.join(known) or '无'}"
        )
    start = window_start(as_of, rules.tier.default.window_years)
    out_dir = Path(settings.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"无法创建输出文件夹 {out_dir}：{cause_zh(exc, '')}") from exc
    by_unit = {sid: frame.groupby("source_unit", sort=False) for sid, frame in tables.items()}
    owners = dict(zip(roster["uscc"], roster["source_unit"], strict=True))
    job = _Job(quarter, by_unit, owners, start, rules)
    paths: list[Path] = []
    for branch in branches:  # named here, so that two workers never pick the same free name
        paths.append(free_name(out_dir / f"{_UNSAFE.sub('_', branch)}_{quarter}_报送.xlsx", paths))
    tasks = list(zip(branches, paths, strict=True))
    if _FORK is None or len(tasks) < settings.parallel_from:
        return [job.write(branch, path) for branch, path in tasks]
    # Forked workers share the frames read above; only the small results travel back.
    with _FORK.Pool(2, initializer=_Job.install, initargs=(job,)) as pool:
        return pool.starmap(_write_installed, tasks, chunksize=1)


_FORK = mp.get_context("fork") if FORKS else None
_INSTALLED: list[_Job] = []  # the job of a forked worker (set by its initializer)


@dataclass(frozen=True)
class _Job:
    """What writing any branch's workbook needs: the register's rows grouped by unit."""

    quarter: str
    by_unit: dict[str, Any]
    owners: dict[str, str]  # customer -> the unit whose claim the register adopted
    start: dt.date
    rules: Rules

    def write(self, branch: str, path: Path) -> BranchPrefill:
        parts = {sid: _part(groups, branch) for sid, groups in self.by_unit.items()}
        return _write_branch(branch, self.quarter, parts, self.owners, self.start, path, self.rules)

    @staticmethod
    def install(job: _Job) -> None:
        _INSTALLED.append(job)


def _write_installed(branch: str, path: Path) -> BranchPrefill:
    return _INSTALLED[0].write(branch, path)


def _read(register: Path) -> dict[str, pd.DataFrame]:
    """The register sheets a pre-fill needs, typed; only those are read."""
    if not register.is_file():
        raise UsageError(f"找不到集团名录 {register}，请确认路径（应为 kam merge 写出的名录）")
    grids = register_sheets(register, _SHEETS)
    if REG_ROSTER.sheet not in grids:
        raise UsageError(f"{register} 不是集团大客户名录（没有“{REG_ROSTER.sheet}”工作表）")
    tables = {REG_ROSTER.id: _typed(grids.get(REG_ROSTER.sheet), REG_ROSTER)}
    tables[CONFLICTS.id] = _typed(grids.get(CONFLICTS.sheet), CONFLICTS)
    for form in (*_STATE, MAINTENANCE):
        reg = REG_BY_SOURCE[form.id]
        tables[form.id] = _typed(grids.get(reg.sheet), reg)
    return tables


def _part(groups: Any, branch: str) -> pd.DataFrame:
    try:
        return groups.get_group(branch)
    except KeyError:
        return groups.obj.iloc[0:0]


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the branch's latest quarter in this sheet: its current state."""
    quarters = [q for q in frame["quarter"] if isinstance(q, str)]
    return frame[frame["quarter"] == max(quarters)] if quarters else frame.iloc[0:0]


def _write_branch(
    branch: str,
    quarter: str,
    parts: dict[str, pd.DataFrame],
    owners: dict[str, str],
    start: dt.date,
    path: Path,
    rules: Rules,
) -> BranchPrefill:
    roster = parts[REG_ROSTER.id]
    keys = set(roster["uscc"])
    cards = _latest(parts[CARDS.id])
    contracts = _latest(parts[CONTRACTS.id])
    signed = pd.to_datetime(contracts["signed_on"], errors="coerce")
    receivable = pd.to_numeric(contracts["receivable"], errors="coerce").fillna(0)
    open_money = (contracts["pay_status"] == OVERDUE) | (receivable > 0)
    contracts = contracts[(signed >= pd.Timestamp(start)) | open_money]
    rows = {
        ROSTER.id: _records(roster, ROSTER),
        CARDS.id: _records(cards[cards["uscc"].isin(keys)], CARDS),
        CONTRACTS.id: _records(contracts[contracts["uscc"].isin(keys)], CONTRACTS),
        MAINTENANCE.id: _open_entries(parts[MAINTENANCE.id], keys),
    }
    record = PrefillRecord()
    for form in (ROSTER, *_STATE, MAINTENANCE):
        record.add(form, rows[form.id])
    given_away = _given_away(parts[CONFLICTS.id], owners, keys)
    counts = {form_id: len(data) for form_id, data in rows.items()}
    info = {"unit": branch, "quarter": quarter}
    notes = _notes(branch, quarter, counts, given_away) + _gaps(rows)
    layout = Layout(spliced=True)
    write_submission(path, info, rows, rules, layout, notes=notes, record=record)
    return BranchPrefill(branch, path, counts, given_away)


def _records(frame: pd.DataFrame, form: Form) -> list[dict[str, Any]]:
    """A sheet's rows as the template writer takes them: the form's data fields only."""
    ids = [f.id for f in form.data_fields if f.id in frame.columns]
    # The register's frames hold None for a blank (kam.register.previous): no NaN to clean.
    columns = [frame[fid].tolist() for fid in ids]
    return [dict(zip(ids, values, strict=True)) for values in zip(*columns, strict=True)]


def _open_entries(frame: pd.DataFrame, keys: set[str]) -> list[dict[str, Any]]:
    """Maintenance entries not closed, each once, as last filed (a later quarter may close it)."""
    rows = _records(frame.sort_values("quarter", kind="stable", na_position="first"), MAINTENANCE)
    latest: dict[str, dict[str, Any]] = {}
    for values in rows:
        latest[row_key(MAINTENANCE.id, values)] = values
    return [v for v in latest.values() if v.get("closed") != YES and v.get("uscc") in keys]


def _given_away(conflicts: pd.DataFrame, owners: dict[str, str], keys: set[str]) -> list[str]:
    """The branch's claims that HQ adopted from another unit, as "名称（代码，现归 单位）"."""
    if conflicts.empty:
        return []
    lost = conflicts[(conflicts["adopted"] != YES) & ~conflicts["uscc"].isin(keys)]
    names = dict(zip(lost["uscc"], lost["name"], strict=True))  # each customer once
    return [
        f"{name}（{code}，现归{owners.get(code) or '其他单位'}）" for code, name in names.items()
    ]


def _gaps(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """A line naming the required values the register lacks (a column the branch never sent):
    validation marks those cells until the branch fills them."""
    gaps = [
        f"{form.sheet}“{f.header}” {n} 处"
        for form in (ROSTER, *_STATE, MAINTENANCE)
        for f in form.data_fields
        if f.required
        and (n := sum(1 for r in rows[form.id] if r.get(f.id) is None or r.get(f.id) == ""))
    ]
    return (
        ["以下必填项在集团名录中为空，请补填（校验会标出这些单元格）：" + "、".join(gaps)]
        if gaps
        else []
    )


def _notes(
    branch: str, quarter: str, counts: dict[str, int], given_away: Sequence[str]
) -> list[str]:
    """The lines atop 填报说明 that say what was pre-filled and what is left to do."""
    filler = "、".join(INFO[f].header for f in ("filler", "phone", "submitted_on"))
    lines = [
        f"本文件由集团市场经营部按集团大客户名录为{branch}预填，用于 {quarter} 报送。",
        f"请核对、更新各表，在“{INFO.sheet}”中补填{filler}后报送。",
        f"预填：{ROSTER.sheet} {counts[ROSTER.id]} 户、{CARDS.sheet} {counts[CARDS.id]} 张、"
        f"{CONTRACTS.sheet} {counts[CONTRACTS.id]} 份"
        "（评价窗口内签订的，以及仍逾期或有应收余额的）、"
        f"未闭环的{MAINTENANCE.sheet}记录 {counts[MAINTENANCE.id]} 条"
        "（闭环后请填写是否闭环与闭环日期）。",
        "预填的值如有修改，校验时会逐项提示“已修改集团名录中的值”，便于集团核对。",
        "接待登记表和风险分析报告登记的是本季度发生的事项，已留空，请填写本季度的记录。",
    ]
    if given_away:
        lines.append("以下客户的归属已判给其他单位，未列入本表：" + "；".join(given_away))
    return lines
