"""报送情况: who submitted what for the latest quarter, who did not, whose file was unreadable."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kam.register.columns import SUBMISSIONS
from kam.register.inbox import branch_of_name
from kam.register.intake import (
    REJECTED,
    STATUS_TEXT,
    SUPERSEDED,
    UNREADABLE,
    FileOutcome,
    Intake,
)
from kam.register.previous import Previous

NOT_SUBMITTED = "未报送"
UNREADABLE_TEXT = "报送文件无法读取"


def latest_quarter(sources: pd.DataFrame) -> str | None:
    quarters = [q for q in sources.get("quarter", ()) if isinstance(q, str) and q]
    return max(quarters) if quarters else None


def missing_branches(sources: pd.DataFrame, branches: tuple[str, ...]) -> list[str]:
    """Known branches with no file (merged or rejected) for the register's latest quarter."""
    latest = latest_quarter(sources)
    done = set(sources.loc[sources["quarter"] == latest, "unit"]) if latest else set()
    return [b for b in branches if b not in done]


def guess_branches(
    intakes: list[Intake],
    outcomes: list[FileOutcome],
    stored: pd.DataFrame,
    branches: tuple[str, ...],
) -> None:
    """An unreadable file's branch from a known branch name in its path, for this quarter.

    Such a branch did submit: 报送情况 says 报送文件无法读取 instead of 未报送, and its
    customers' conclusions name the file. The quarter is the latest of this run's files.
    """
    quarters = [o.quarter for o in outcomes if o.quarter] or [latest_quarter(stored)]
    quarter = max((q for q in quarters if q), default=None)
    for it in intakes:
        o = it.outcome
        if o.branch is None and o.status == REJECTED:
            o.branch = branch_of_name(o.file, branches)
            if o.branch is not None:
                o.quarter = quarter
                for r in it.refused:
                    r["unit"], r["quarter"] = o.branch, quarter


def unreadable_branches(sources: pd.DataFrame) -> list[str]:
    """Branches whose only files for the latest quarter could not be read."""
    latest = latest_quarter(sources)
    if latest is None or sources.empty:
        return []
    now = sources[sources["quarter"] == latest]
    bad = now["status"].eq(REJECTED) & now["reason"].fillna("").str.startswith(UNREADABLE)
    ok = set(now.loc[~bad & now["status"].ne(SUPERSEDED), "unit"])
    return sorted({u for u in now.loc[bad, "unit"] if isinstance(u, str) and u not in ok})


def submissions(sources: pd.DataFrame, branches: tuple[str, ...]) -> pd.DataFrame:
    """报送情况: one row per file merged or rejected, then the branches that did not submit."""
    ids = [f.id for f in SUBMISSIONS.fields]
    rows = sources[sources["status"] != SUPERSEDED].reindex(columns=ids)
    unreadable = rows["status"].eq(REJECTED) & rows["reason"].fillna("").astype(str).str.startswith(
        UNREADABLE
    )
    rows["status"] = rows["status"].map(lambda s: STATUS_TEXT.get(s, s))
    rows.loc[unreadable, "status"] = UNREADABLE_TEXT
    latest = latest_quarter(sources)
    absent = [
        {"unit": b, "quarter": latest, "status": NOT_SUBMITTED, "reason": "本季度未收到报送文件"}
        for b in missing_branches(sources, branches)
    ]
    return concat_rows([rows, pd.DataFrame(absent)], ids)


def branch_list_changed(prev: Previous, branches: tuple[str, ...]) -> bool:
    """True when 报送情况 would list other non-submitters than the register records."""
    if not branches or not prev.exists:
        return False
    want = submissions(prev.sources, branches)
    have = prev.submissions

    def absent(frame: pd.DataFrame) -> set[Any]:
        if frame.empty:
            return set()
        return set(frame.loc[frame["status"] == NOT_SUBMITTED, "unit"])

    return absent(want) != absent(have)


def concat_rows(parts: list[pd.DataFrame], ids: list[str]) -> pd.DataFrame:
    """The parts stacked with exactly the columns `ids` (object dtype; empty parts dropped)."""
    parts = [p.reindex(columns=ids).astype(object) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=ids, dtype=object)
    return pd.concat(parts, ignore_index=True)
