"""Ownership: one register row per customer from every branch's roster claims (DOMAIN §5).

Each branch's latest-quarter claim counts. When more than one branch claims a USCC, the
claim from the unit recorded as 责任单位 of a 集团级 claim wins; otherwise the earliest
纳入名录日期 (then the branch name, so the choice never depends on file order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kam.forms import TIER
from kam.register.columns import CONFLICTS
from kam.submission import display

GROUP_TIER = TIER.values[0]
YES, NO = "是", "否"


@dataclass(frozen=True)
class Claim:
    """One branch's roster row for a customer."""

    branch: str | None
    file: str | None
    quarter: str | None
    adopted: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "file": self.file,
            "quarter": self.quarter,
            "adopted": self.adopted,
        }


@dataclass
class Conflict:
    """A customer claimed by more than one branch, every claim and why one was kept."""

    key: str
    name: str
    claims: list[Claim]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "claims": [c.to_json() for c in self.claims],
            "reason": self.reason,
        }


@dataclass
class Ownership:
    """The register rows (one per customer), the 归属冲突 rows and the losing claims."""

    view: pd.DataFrame
    conflict_rows: pd.DataFrame
    conflicts: list[Conflict] = field(default_factory=list)
    losers: pd.DataFrame = field(default_factory=pd.DataFrame)  # claims kept only in 归属冲突


def resolve(claims: pd.DataFrame) -> Ownership:
    """Pick one claim per USCC; list every claim of a contested one."""
    c = claims.reset_index(drop=True)
    keyed = c["uscc"].map(lambda v: isinstance(v, str) and bool(v)).astype(bool)
    keyless, c = c.loc[~keyed], c.loc[keyed]
    # A branch's newer quarter supersedes its older claims (the roster is a snapshot).
    order = c["quarter"].fillna("").astype(str)
    c = c.loc[order.sort_values(kind="stable").index]
    c = c.drop_duplicates(["uscc", "source_unit"], keep="last").sort_index()
    units = c.groupby("uscc")["source_unit"].transform("nunique")
    contested = c[units > 1]
    winners: list[int] = []
    conflicts: list[Conflict] = []
    rows: list[pd.DataFrame] = []
    for key, group in contested.groupby("uscc", sort=False):
        win, reason = _winner(group)
        winners.append(win)
        conflicts.append(
            Conflict(
                key=str(key),
                name=display(group.at[win, "name"]),
                claims=[
                    Claim(g.source_unit, g.source_file, g.quarter, i == win)
                    for i, g in group.iterrows()
                ],
                reason=reason,
            )
        )
        part = group.copy()
        part["adopted"] = [YES if i == win else NO for i in part.index]
        part["message"] = reason
        rows.append(part)
    losers = contested.drop(index=winners)
    view = pd.concat([keyless, c.drop(index=losers.index)]).sort_index()
    ids = [f.id for f in CONFLICTS.fields]
    conflict_rows = (
        pd.concat(rows).reindex(columns=ids) if rows else pd.DataFrame(columns=ids, dtype=object)
    )
    return Ownership(view.reset_index(drop=True), conflict_rows, conflicts, losers)


def _winner(group: pd.DataFrame) -> tuple[int, str]:
    """The index of the kept claim and the sentence that says why."""
    owners = {u for t, u in zip(group["tier"], group["unit"], strict=True) if t == GROUP_TIER and u}
    matching = group[group["source_unit"].isin(owners)]
    if len(matching):
        win = _earliest(matching)
        unit = group.at[win, "source_unit"]
        return win, f"集团级客户，登记的责任单位为“{unit}”，采用该单位的报送"
    win = _earliest(group)
    when = _day(group.at[win, "listed_on"])
    return win, (
        f"多个单位报送该客户，采用纳入名录日期最早（{when or '未填'}）的“"
        f"{group.at[win, 'source_unit']}”的报送"
    )


def _earliest(group: pd.DataFrame) -> int:
    listed = pd.to_datetime(group["listed_on"], errors="coerce")
    key = pd.DataFrame({"d": listed, "u": group["source_unit"].fillna("").astype(str)})
    return int(key.sort_values(["d", "u"], na_position="last", kind="stable").index[0])


def _day(value: object) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return display(value)
