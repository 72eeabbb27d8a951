"""State and events: how a branch's rows from successive quarters meet in the register.

- 大客户名录, 信息登记卡 and 合同台账 are the branch's current state. A merged file for a
  quarter at least as late as the branch's stored state replaces every stored row of that
  branch in that sheet (earlier quarters and a resubmission of the same quarter alike). A
  file for an older quarter arriving late does not replace a newer state: its state rows
  count as duplicates of the newer submission (its events still merge). A sheet missing
  from the file leaves the stored state of that sheet as it was.
- 接待登记表, 维护管理登记表 and 风险分析报告 are events and accumulate. An event is
  identified by EVENT_KEYS (the branch, the customer, its date and what happened); the same
  event filed again (in a later quarter, or in two files of one run) is a duplicate of the
  stored one when every value is equal, and updates it (values and provenance) when its
  other columns changed, e.g. a maintenance entry open last quarter and closed now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from kam.forms import CARDS, CONTRACTS, MAINTENANCE, RECEPTION, RISK, ROSTER
from kam.register.columns import PROVENANCE, REG_BY_SOURCE
from kam.register.columnwise import joined, per_distinct
from kam.register.intake import FileOutcome, Intake
from kam.submission import display

if TYPE_CHECKING:
    from kam.register.repeats import Repeats

STATE_SOURCES: tuple[str, ...] = (ROSTER.id, CARDS.id, CONTRACTS.id)
EVENT_SOURCES: tuple[str, ...] = (RECEPTION.id, MAINTENANCE.id, RISK.id)

EVENT_KEYS: dict[str, tuple[str, ...]] = {
    RECEPTION.id: ("source_unit", "uscc", "date", "visitor", "host", "purpose"),
    MAINTENANCE.id: ("source_unit", "uscc", "date", "method", "unit", "summary"),
    RISK.id: ("source_unit", "uscc", "risk_type", "found_on", "description"),
}
"""What identifies an event: equal keys are the same event (README, 事件的识别)."""

EVENT_DATES: dict[str, str] = {RECEPTION.id: "date", MAINTENANCE.id: "date", RISK.id: "found_on"}
"""The date that places an event in a year (for the archive)."""

STATE_KEYS: dict[str, str] = {CARDS.id: "uscc", CONTRACTS.id: "contract_no"}
"""The key of a state row whose disappearance 季度变更 lists (customers: see changes.py)."""

REMOVED_CARD, REMOVED_CONTRACT = "移除登记卡", "移除合同"
_REMOVED = {CARDS.id: REMOVED_CARD, CONTRACTS.id: REMOVED_CONTRACT}
_PROVENANCE_IDS = frozenset(f.id for f in PROVENANCE)
Origin = tuple[Any, Any, Any]
"""A row's file: (来源单位, 报送季度, 来源文件)."""


def origin(o: FileOutcome) -> Origin:
    """The origin of the rows a file merged."""
    return (o.branch, o.quarter, o.file)


def origins(rows: pd.DataFrame) -> list[Origin]:
    """Each stored row's origin, from its 来源单位, 报送季度 and 来源文件."""
    return list(zip(rows["source_unit"], rows["quarter"], rows["source_file"], strict=True))


@dataclass
class Assembly:
    """The assembled stores, what they dropped, and the per-file duplicate counts."""

    stores: dict[str, pd.DataFrame] = field(default_factory=dict)
    dropped: dict[str, pd.DataFrame] = field(default_factory=dict)  # state rows replaced
    slots: set[tuple[Any, Any]] = field(default_factory=set)  # (unit, quarter) rows replaced
    duplicates: Counter[Origin] = field(default_factory=Counter)  # rows counted duplicate
    updates: Counter[Origin] = field(default_factory=Counter)  # events that updated one
    outdated: dict[str, str] = field(default_factory=dict)  # file -> the newer stored quarter
    older: Counter[Origin] = field(default_factory=Counter)  # older versions of stored events
    repeats: Repeats | None = None  # which other slots filed each stored event


def merged_intakes(intakes: Iterable[Intake]) -> list[Intake]:
    """The readable files of this run, oldest quarter first (so later ones win)."""
    ok = [it for it in intakes if it.merges]  # not rejected, not superseded
    return sorted(ok, key=lambda it: str(it.outcome.quarter or ""))


def latest_state(sources: pd.DataFrame) -> dict[str, str]:
    """Branch -> the latest quarter of its merged files in the old register."""
    if sources is None or sources.empty or "status" not in sources:
        return {}
    live = sources[sources["status"].isin(("merged", "partial"))]
    out: dict[str, str] = {}
    for unit, quarter in zip(live["unit"], live["quarter"], strict=True):
        if isinstance(unit, str) and isinstance(quarter, str) and quarter > out.get(unit, ""):
            out[unit] = quarter
    return out


def assemble(
    old_tables: dict[str, pd.DataFrame],
    intakes: list[Intake],
    old_sources: pd.DataFrame,
    replaced: set[tuple[Any, Any]],
    repeats: Repeats,
) -> Assembly:
    """Every register store from the old rows and this run's merged rows (module docstring)."""
    from kam.register.repeats import live_files

    out = Assembly(repeats=repeats)
    merged = merged_intakes(intakes)
    latest = latest_state(old_sources)
    winner: dict[str, Intake] = {}  # branch -> its latest file of this run
    for it in merged:
        branch = str(it.outcome.branch)
        if str(it.outcome.quarter) >= latest.get(branch, ""):
            winner[branch] = it
    for it in merged:
        branch = str(it.outcome.branch)
        if winner.get(branch) is not it:
            newer = winner[branch].outcome.quarter if branch in winner else latest[branch]
            out.outdated[it.outcome.file] = str(newer)
    for sid in STATE_SOURCES:
        old = _frame(old_tables.get(sid), sid)
        _state(out, sid, old, merged, winner)
    repeats.forget_slots(replaced)  # rebuilt from the new files of those slots
    files = live_files(old_sources)
    for sid in EVENT_SOURCES:
        old = _frame(old_tables.get(sid), sid)
        new = [((it.outcome.branch, it.outcome.quarter), it.rows.get(sid)) for it in merged]
        # A replaced slot's event stays when another slot still files it (repeats.py).
        old = repeats.restore(sid, old, replaced, files, new)
        _events(out, sid, old, merged)
    return out


def _state(
    out: Assembly, sid: str, old: pd.DataFrame, merged: list[Intake], winner: dict[str, Intake]
) -> None:
    sheet = REG_BY_SOURCE[sid].sheet
    new_parts = []
    replacing: set[str] = set()
    for it in merged:
        o = it.outcome
        rows = it.rows.get(sid)
        if winner.get(str(o.branch)) is not it:
            if rows is not None and len(rows):
                out.duplicates[origin(o)] += len(rows)
            continue
        if sheet in o.missing_sheets:
            continue  # a sheet not sent keeps the stored state
        replacing.add(str(o.branch))
        if rows is not None and len(rows):
            new_parts.append(rows)
    gone = old["source_unit"].isin(list(replacing)) if len(old) else pd.Series(dtype=bool)
    dropped = old[gone] if len(old) else old
    out.dropped[sid] = dropped
    out.slots |= set(zip(dropped["source_unit"], dropped["quarter"], strict=True))
    kept = old[~gone] if len(old) else old
    out.stores[sid] = concat([kept, *new_parts], sid)


def _events(out: Assembly, sid: str, old: pd.DataFrame, merged: list[Intake]) -> None:
    """Old events, then each new one: appended, a duplicate, or an update of a stored one."""
    keys = EVENT_KEYS[sid]
    ids = [f.id for f in REG_BY_SOURCE[sid].fields]
    values = [i for i in ids if i not in _PROVENANCE_IDS]
    new = concat([it.rows[sid] for it in merged if sid in it.rows], sid)
    if new.empty:
        out.stores[sid] = old.reset_index(drop=True)
        return
    table = concat([old, new], sid)
    n_old = len(old)
    key = key_texts(table, keys)
    # Whole rows are compared only where keys meet: the new rows and the stored rows that
    # share a key with one (not every stored event of the window, each merge).
    news = set(key[n_old:])
    meet = [j for j in range(n_old) if key[j] in news] + list(range(n_old, len(table)))
    whole = dict(zip(meet, key_texts(table.take(meet), values), strict=True))
    came = origins(table)
    own = table[values].to_numpy(object)  # an event's own values, by row (no .loc per row)
    reps = out.repeats
    assert reps is not None  # set by assemble()
    stored: dict[str, list[int]] = {}
    used: dict[tuple[Any, ...], set[int]] = {}
    drop: list[int] = []
    for i, k in enumerate(key):
        if i < n_old:
            stored.setdefault(k, []).append(i)
            continue
        me = came[i]
        taken = used.setdefault(me, set())
        # Rows of one file never match each other: two equal-key entries of a file are two.
        cands = [j for j in stored.get(k, ()) if came[j] != me and j not in taken]
        exact = next((j for j in cands if whole[j] == whole[i]), None)
        if exact is not None:
            taken.add(exact)
            out.duplicates[me] += 1
            drop.append(i)
            reps.duplicate(sid, k, me[:2])
        elif cands and str(me[1]) < max(str(came[cands[0]][1]), reps.latest(sid, k)):
            # An older quarter's version of an event a later quarter filed: the later stays.
            taken.add(cands[0])
            out.duplicates[me] += 1
            out.older[me] += 1
            drop.append(i)
            reps.older(sid, k, me[:2], tuple(own[i]))
        elif cands:  # the later filing of the event wins: it takes the stored row's place
            j = cands[0]
            taken.add(j)
            out.updates[me] += 1
            drop.append(j)
            stored[k].remove(j)
            stored[k].append(i)
            reps.updated(sid, k, came[j][:2], tuple(own[j]))
        else:
            stored.setdefault(k, []).append(i)
    out.stores[sid] = table.drop(index=drop).reset_index(drop=True) if drop else table


def key_texts(frame: pd.DataFrame, ids: Iterable[str]) -> list[str]:
    """Each row's values of `ids` as one text (dates and numbers as display() shows them)."""
    cols = [per_distinct(frame[i].to_numpy(object), display, "") for i in ids if i in frame]
    return joined(cols, "\x1f", len(frame)).tolist()


def removed_rows(a: Assembly, view_names: dict[str, Any]) -> pd.DataFrame:
    """季度变更 rows for the cards and contracts that left a branch's state."""
    rows = []
    for sid, change in _REMOVED.items():
        dropped = a.dropped.get(sid)
        if dropped is None or dropped.empty:
            continue
        key = STATE_KEYS[sid]
        now = set(a.stores[sid][key].map(display))
        for rec in dropped[["uscc", key, "source_unit"]].itertuples(index=False):
            k = display(rec[1])
            uscc = display(rec[0])
            if sid == CARDS.id and uscc not in view_names:
                continue  # the customer's own removal says it (移除客户)
            if k and k not in now:
                now.add(k)  # listed once, however many stored rows it had
                rows.append(
                    {
                        "uscc": uscc,
                        "name": view_names.get(uscc),
                        "change": change,
                        "before": k,
                        "after": "",
                        "source_unit": rec[2],
                    }
                )
    return pd.DataFrame(rows)


def concat(parts: list[pd.DataFrame], sid: str) -> pd.DataFrame:
    """The parts under the register columns of `sid` (object dtype, fresh index)."""
    ids = [f.id for f in REG_BY_SOURCE[sid].fields]
    parts = [p.reindex(columns=ids).astype(object) for p in parts if p is not None and len(p)]
    if not parts:
        return pd.DataFrame(columns=ids, dtype=object)
    return pd.concat(parts, ignore_index=True)


def _frame(frame: pd.DataFrame | None, sid: str) -> pd.DataFrame:
    return concat([frame] if frame is not None else [], sid)


def _slot_mask(frame: pd.DataFrame, slots: set[tuple[Any, Any]]) -> pd.Series:
    pairs = pd.Series(
        list(zip(frame["source_unit"], frame["quarter"], strict=True)), index=frame.index
    )
    return pairs.isin(slots)
