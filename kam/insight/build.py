"""The insight of a register: built by a merge before writing, or read back for the CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kam.errors import UsageError
from kam.forms import CONTRACTS, ROSTER
from kam.insight.exposure import Exposure, exposure_rows, exposures, exposures_of
from kam.insight.facts import Facts, latest_quarter, text, unique_deals
from kam.insight.kpi import NOT_SUBMITTED, Scorecard, scorecard
from kam.insight.trends import appended, headline
from kam.register.assess import assess_register
from kam.register.columns import HQ_FIELDS, REG_ROSTER
from kam.register.owners import resolve
from kam.register.previous import Previous, read_previous
from kam.rules import Rules
from kam.submission import Submission
from kam.tiers import quarter_end, window_start


@dataclass
class Insight:
    """Everything the 考核 / 风险敞口 / 趋势 sheets, `kam kpi` and `kam notice` show."""

    facts: Facts
    card: Scorecard
    exposure: dict[str, Exposure]  # USCC -> exposure, every customer
    exposure_table: pd.DataFrame  # 风险敞口 rows
    history: pd.DataFrame  # the hidden history, this quarter's row appended

    @property
    def notices_due(self) -> int:
        """Customers under a bankruptcy warning: one 预警通报 each."""
        return len(self.facts.bankrupt())


def facts_of(
    view: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    risks: pd.DataFrame,
    sources: pd.DataFrame,
    rules: Rules,
    branches: tuple[str, ...] = (),
) -> Facts | None:
    """The facts of a built register (None when it has no quarter yet)."""
    quarter = latest_quarter(view)
    if quarter is None:
        return None
    return Facts(
        quarter,
        quarter_end(quarter),
        view.reset_index(drop=True),
        tables,
        risks,
        sources,
        rules,
        branches,
    )


def insight_of(facts: Facts, history: pd.DataFrame, now: dt.datetime) -> Insight:
    """Scorecard, exposure and the history with this quarter's row appended."""
    card = scorecard(facts)
    found = exposures(facts)
    rows = exposure_rows(facts, found)
    return Insight(facts, card, found, rows, appended(history, headline(facts, card, now)))


def previous_facts(
    prev: Previous, rules: Rules, branches: tuple[str, ...] = (), as_of: dt.date | None = None
) -> Facts | None:
    """The facts of a register read back: its computed columns recomputed the merge's way."""
    view = resolve(prev.tables["roster"]).view.reset_index(drop=True).copy()
    risks = assess_register(view, prev.tables, rules)
    for f in HQ_FIELDS:
        view[f.id] = view["uscc"].map(lambda k, fid=f.id: prev.hq.get(k, {}).get(fid))
    view = view.reindex(columns=[f.id for f in REG_ROSTER.fields])
    facts = facts_of(view, prev.tables, risks, prev.sources, rules, branches)
    if facts is not None and as_of is not None:
        facts.as_of = as_of  # kam risk --as-of: the 5-year window ends there
    return facts


def register_exposure(prev: Previous, rules: Rules, as_of: dt.date) -> dict[str, Exposure]:
    """Every register customer's exposure, the 5-year window ending on `as_of`."""
    view = resolve(prev.tables["roster"]).view
    start = window_start(as_of, rules.tier.default.window_years)
    return exposures_of(unique_deals(prev.tables["contracts"]), text(view["uscc"]), start, as_of)


def submission_exposure(sub: Submission, rules: Rules, as_of: dt.date) -> dict[str, Exposure]:
    """A submission's customers' exposure: its own contracts, its 报送单位 the one unit."""
    contracts = sub.sheets.get(CONTRACTS.id)
    roster = sub.sheets.get(ROSTER.id)
    frame = (
        contracts.frame
        if contracts is not None
        else pd.DataFrame(columns=[f.id for f in CONTRACTS.data_fields])
    )
    frame = frame.assign(source_unit=sub.info("unit"), quarter=sub.info("quarter"), row=frame.index)
    keys = text(roster.frame["uscc"]) if roster is not None else pd.Series(dtype=object)
    start = window_start(as_of, rules.tier.default.window_years)
    return exposures_of(unique_deals(frame), keys, start, as_of)


def known_branches(prev: Previous, rules: Rules) -> tuple[str, ...]:
    """The rules file's branch list and the branches 报送情况 lists as 未报送."""
    sub = prev.submissions
    absent = sub.loc[sub["status"] == NOT_SUBMITTED, "unit"] if len(sub) else []
    named = [*rules.merge.branches, *(u for u in absent if isinstance(u, str) and u)]
    return tuple(dict.fromkeys(named))


def read_insight(register: Path, rules: Rules) -> Insight:
    """`kam kpi` / `kam notice`: the insight of a register file."""
    prev = read_previous(register)
    facts = previous_facts(prev, rules, known_branches(prev, rules)) if prev.exists else None
    if facts is None:
        raise UsageError(
            f"{register} 不是已有的集团大客户名录（或没有报送季度），请先运行 kam merge"
        )
    card = scorecard(facts)
    found = exposures(facts)
    return Insight(facts, card, found, exposure_rows(facts, found), prev.history)


def merge_insight(
    prev: Previous, facts: Facts | None, rules: Rules, branches: tuple[str, ...]
) -> Insight | None:
    """A merge's insight; a register from before the history starts it at its latest quarter."""
    if facts is None:
        return None
    now = dt.datetime.now().replace(microsecond=0)
    history = prev.history
    if history.empty and prev.exists:
        old = previous_facts(prev, rules, branches)
        if old is not None and old.quarter != facts.quarter:
            history = appended(history, headline(old, scorecard(old), now))
    return insight_of(facts, history, now)
