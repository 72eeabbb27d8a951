"""The branch scorecard (DOMAIN §9.1): every measure with its numerator and denominator.

Readings decided here (the spec is silent):
- per branch, customer measures (客户数, 档案完整率, 高层接触达标率, 新增/流失, 高风险) group the
  register customers by 责任单位; file measures (报送状态, 按时报送, 数据差错率) by the
  submitting unit; maintenance measures by the 来源单位 of the 维护管理登记表 row, over the rows
  submitted for the latest quarter; 新签合同额 by the 来源单位 of the contract;
- per 责任人 (the second table) the same, keyed by (责任单位, 责任人); the file measures have
  no owner and are left out;
- 档案完整率: a customer's card is its latest-quarter 信息登记卡 row; no card = every expected
  field empty (§2.4);
- 新增客户 = 纳入名录日期 in the quarter; 流失客户 = customers whose register row still comes
  from an earlier quarter although their 来源单位 submitted this quarter (dropped from its roster);
- 按时报送 of a branch with no readable file: 未报送 -> 否, unreadable -> 无数据.
A zero denominator is 无数据 and meets no target.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd

from kam.forms import CARDS
from kam.insight.facts import (
    GROUP_TIER,
    NO,
    YES,
    Facts,
    dates,
    filled,
    previous_quarter,
    previous_quarter_end,
    text,
)
from kam.register.intake import MERGED, PARTIAL, REJECTED, UNCHANGED
from kam.rules import KpiRules

NO_DATA = "无数据"
SUBMITTED, UNREADABLE, NOT_SUBMITTED = "已报送", "报送文件无法读取", "未报送"
NOT_A_SENDER = "无需报送"  # a 责任单位 (e.g. HQ itself) that is no known branch and never sent
EXPECTED = tuple(f.id for f in CARDS.data_fields if f.expected)
"""The info-card fields 档案完整率 counts (shared with validators/completeness)."""


@dataclass(frozen=True)
class Measure:
    """One figure: value with what it is computed from, and its target when it has one."""

    value: Any
    numerator: Any = None
    denominator: Any = None
    target: Any = None
    met: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "numerator": _plain(self.numerator),
            "denominator": _plain(self.denominator),
            "target": self.target,
            "met": self.met,
        }


@dataclass(frozen=True)
class Spec:
    """How a measure is shown: header, kind, the labels of its parts, its target rule."""

    id: str
    header: str
    kind: str  # ratio | flag | count | amount | text
    parts: tuple[str, str] | None = None  # headers of numerator / denominator columns
    target: str | None = None  # KpiRules attribute
    at_least: bool = True  # the target is a minimum (else a maximum)
    per_owner: bool = True


SPECS: tuple[Spec, ...] = (
    Spec("status", "报送状态", "text", per_owner=False),
    Spec("on_time", "按时报送", "flag", ("报送日期", "截止日期"), per_owner=False),
    Spec("customers", "客户数", "count"),
    Spec("completeness", "档案完整率", "ratio", ("已填项", "应填项"), "completeness_min"),
    Spec("error_rate", "数据差错率", "ratio", ("拒收行", "读入行"), "error_rate_max", False, False),
    Spec("issue_closure", "问题闭环率", "ratio", ("已闭环", "到期问题"), "issue_closure_min"),
    Spec(
        "response_on_time",
        "响应及时率",
        "ratio",
        ("按时闭环", "有时限的闭环"),
        "response_on_time_min",
    ),
    Spec(
        "top_contact_coverage",
        "高层接触达标率",
        "ratio",
        ("达标客户", "集团级客户"),
        "top_contact_coverage_min",
    ),
    Spec("new_customers", "新增客户", "count"),
    Spec("lost_customers", "流失客户", "count"),
    Spec("new_contract_amount", "本季度新签合同额（万元）", "amount", ("合同份数", "")),
    Spec("new_contract_amount_qoq", "新签合同额环比", "ratio", ("增减额", "上季度签约额")),
    Spec("high_risk_customers", "高风险客户数", "count"),
)
SPEC_BY_ID = {s.id: s for s in SPECS}


@dataclass
class Scorecard:
    """`kam kpi`: per branch, per 责任人, and the whole group (the 合计 row)."""

    quarter: str
    as_of: dt.date
    branches: list[tuple[str, dict[str, Measure]]]
    owners: list[tuple[tuple[str, str], dict[str, Measure]]]
    group: dict[str, Measure]
    rules: KpiRules

    def to_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "as_of": self.as_of.isoformat(),
            "branches": [
                {"branch": b, **{k: m.to_json() for k, m in ms.items()}} for b, ms in self.branches
            ],
            "owners": [
                {"branch": b, "owner": o, **{k: m.to_json() for k, m in ms.items()}}
                for (b, o), ms in self.owners
            ],
            "group": {k: m.to_json() for k, m in self.group.items()},
            "targets": self.rules.model_dump(),
        }


def ratio(num: float, den: float, spec: Spec, rules: KpiRules) -> Measure:
    """num / den against the spec's target; 无数据 when den is zero."""
    target = getattr(rules, spec.target) if spec.target else None
    if not den:
        return Measure(NO_DATA, num, den, target, None)
    value = num / den
    met = None
    if target is not None:  # exact comparison: 49/50 meets 0.98
        goal = _exact(target)  # num/den vs p/q, in integers
        lhs, rhs = num * goal.denominator, goal.numerator * den
        met = lhs >= rhs if spec.at_least else lhs <= rhs
    return Measure(value, num, den, target, met)


@functools.cache
def _exact(target: float) -> Fraction:
    """The target as typed in the rules file (0.98 is 49/50, not the nearest binary float)."""
    return Fraction(str(target))


Keys = list[str]


def scorecard(f: Facts) -> Scorecard:
    """The whole scorecard of the register's latest quarter."""
    rules = f.rules.kpi
    view = f.view.assign(
        _unit=text(f.view["unit"]).replace("", "（未填）"),
        _owner=text(f.view["owner"]).replace("", "（未填）"),
    )
    maint = _quarter_rows(f.tables["maintenance"], f.quarter).assign(
        _unit=lambda m: text(m["source_unit"]), _owner=lambda m: text(m["owner"])
    )
    deals = f.deals.copy()
    owner_of = dict(
        zip(text(view["uscc"]), zip(view["_unit"], view["_owner"], strict=True), strict=True)
    )
    holder = text(deals["uscc"]).map(lambda k: owner_of.get(k, ("", "")))
    deals["_unit"] = deals["source_unit"]  # per branch: the unit that signed the contract
    deals["_owner"] = holder.map(lambda p: p[1])
    owned = deals.assign(_unit=holder.map(lambda p: p[0]))  # per 责任人: the customer's unit
    files = _files(f)
    units = set(files["unit"]) | set(view["_unit"]) | set(deals["_unit"]) | set(maint["_unit"])
    branch_names = sorted((set(f.branches) | units) - {""})
    by_branch = _measures(f, view, maint, deals, ["_unit"], rules)
    branches = []
    senders = set(f.branches) | set(text(f.sources.get("unit", pd.Series(dtype=object))))
    deadline = (f.as_of + dt.timedelta(days=rules.deadline_days)).isoformat()
    for b in branch_names:
        if b in senders:
            ms = {
                "status": Measure(NOT_SUBMITTED),
                "on_time": Measure(NO, None, deadline, YES, False),
            }
        else:
            ms = {
                "status": Measure(NOT_A_SENDER),
                "on_time": Measure(NO_DATA, None, None, YES, None),
            }
        ms |= _file_measures(files, b, f, rules)
        ms |= {k: getter(b) for k, getter in by_branch.items()}
        branches.append((b, {s.id: ms[s.id] for s in SPECS}))
    by_owner = _measures(f, view, maint, owned, ["_unit", "_owner"], rules)
    pairs = sorted(
        set(zip(view["_unit"], view["_owner"], strict=True))
        | set(zip(maint["_unit"], maint["_owner"], strict=True))
    )
    owners = [(p, {s.id: by_owner[s.id](p) for s in SPECS if s.per_owner}) for p in pairs if all(p)]
    whole = _measures(
        f, view.assign(_all=""), maint.assign(_all=""), deals.assign(_all=""), ["_all"], rules
    )
    group = {k: getter("") for k, getter in whole.items()}
    group |= _file_measures(files.assign(unit=""), "", f, rules, whole_group=True)
    group = {s.id: group[s.id] for s in SPECS if s.id in group}
    return Scorecard(f.quarter, f.as_of, branches, owners, group, rules)


def _quarter_rows(frame: pd.DataFrame, quarter: str) -> pd.DataFrame:
    return frame[text(frame["quarter"]) == quarter].reset_index(drop=True)


def _files(f: Facts) -> pd.DataFrame:
    """The latest quarter's files (superseded ones left out), one row each."""
    src = f.sources
    if src.empty:
        return pd.DataFrame(columns=["unit", "status", "rows_in", "rejected", "submitted_on"])
    src = src[
        (text(src["quarter"]) == f.quarter)
        & src["status"].isin([MERGED, PARTIAL, UNCHANGED, REJECTED])
    ].copy()
    src["unit"] = text(src["unit"])
    return src


def _file_measures(
    files: pd.DataFrame, unit: str, f: Facts, rules: KpiRules, whole_group: bool = False
) -> dict[str, Measure]:
    """报送状态, 按时报送 and 数据差错率 of a unit's files for the quarter."""
    mine = files[files["unit"] == unit]
    if mine.empty:
        return {"error_rate": ratio(0, 0, SPEC_BY_ID["error_rate"], rules)}
    read = mine[mine["status"] != REJECTED]
    rows_in = int(pd.to_numeric(mine["rows_in"], errors="coerce").fillna(0).sum())
    rejected = int(pd.to_numeric(mine["rejected"], errors="coerce").fillna(0).sum())
    out = {"error_rate": ratio(rejected, rows_in, SPEC_BY_ID["error_rate"], rules)}
    if whole_group:
        return out
    deadline = f.as_of + dt.timedelta(days=rules.deadline_days)
    if read.empty:
        out["status"] = Measure(UNREADABLE)
        out["on_time"] = Measure(NO_DATA, None, deadline.isoformat(), YES, None)
        return out
    out["status"] = Measure(SUBMITTED)
    sent = dates(read.get("submitted_on", pd.Series(dtype=object))).max()
    if pd.isna(sent):  # a register written before 报送日期 was recorded
        out["on_time"] = Measure(NO_DATA, None, deadline.isoformat(), YES, None)
    else:
        ok = sent.date() <= deadline
        out["on_time"] = Measure(
            YES if ok else NO, sent.date().isoformat(), deadline.isoformat(), YES, ok
        )
    return out


def _measures(
    f: Facts,
    view: pd.DataFrame,
    maint: pd.DataFrame,
    deals: pd.DataFrame,
    keys: Keys,
    rules: KpiRules,
) -> dict[str, Callable[[Any], Measure]]:
    """Every customer, maintenance and contract measure, as a lookup by group key."""

    # Group sums as plain dicts: one lookup per (group, measure), thousands of owners.
    def count(frame: pd.DataFrame, mask: pd.Series | None = None) -> dict[Any, float]:
        rows = frame if mask is None else frame[mask.to_numpy(bool)]
        return rows.groupby(keys).size().to_dict() if len(rows) else {}

    def total(frame: pd.DataFrame, values: pd.Series) -> dict[Any, float]:
        if not len(frame):
            return {}
        return values.groupby([frame[k] for k in keys]).sum().to_dict()

    def get(series: dict[Any, float], key: Any) -> float:
        return float(series.get(key, 0) or 0)

    def as_ratio(mid: str, num: dict, den: dict) -> Callable[[Any], Measure]:
        spec = SPEC_BY_ID[mid]
        return lambda k: ratio(int(get(num, k)), int(get(den, k)), spec, rules)

    def as_count(series: dict) -> Callable[[Any], Measure]:
        return lambda k: Measure(int(get(series, k)), int(get(series, k)))

    uscc = text(view["uscc"])
    # 档案完整率: the latest-quarter card of each customer; no card = all fields empty.
    cards = f.tables["cards"].assign(
        _key=lambda c: text(c["uscc"]), _q=lambda c: text(c["quarter"])
    )
    cards = cards.sort_values("_q", kind="stable").drop_duplicates("_key", keep="last")
    done = (
        pd.concat([filled(cards[fid]) for fid in EXPECTED], axis=1).sum(axis=1)
        if len(cards)
        else pd.Series(dtype=int)
    )
    per_card = dict(zip(cards["_key"], done, strict=True))
    filled_n = uscc.map(lambda k: per_card.get(k, 0)).astype(int)
    expected_n = pd.Series(len(EXPECTED), index=view.index)
    # 高层接触: 集团级 (recorded or computed) customers that few_top_contacts did not flag.
    group = (text(view["tier"]) == GROUP_TIER) | (text(view["calc_tier"]) == GROUP_TIER)
    few = set(f.risks.loc[f.risks["rule"] == "few_top_contacts", "uscc"]) if len(f.risks) else set()
    reached = group & ~uscc.isin(few)
    listed = dates(view["listed_on"])
    start, end = pd.Timestamp(f.quarter_start), pd.Timestamp(f.as_of)
    new = (listed >= start) & (listed <= end)
    files = _files(f)
    sent_units = set(files.loc[files["status"] != REJECTED, "unit"])
    lost = (text(view["quarter"]) < f.quarter) & text(view["source_unit"]).isin(sent_units)
    high = f.level == "高"
    # Maintenance: issues due by as-of, and closed rows with a deadline.
    due, closed_on = dates(maint["deadline"]), dates(maint["closed_on"])
    closed = text(maint["closed"]) == YES
    issue = filled(maint["issue"]) & due.notna() & (due <= end)
    timed = closed & due.notna()
    in_time = timed & closed_on.notna() & (closed_on <= due)
    # Contracts signed in this quarter and the one before.
    signed = deals["signed_on"]
    this_q = (signed >= start) & (signed <= end)
    prev_start = pd.Timestamp(previous_quarter_end(previous_quarter(f.quarter))) + pd.Timedelta(
        days=1
    )
    last_q = (signed >= prev_start) & (signed < start)
    amount = deals["amount"].fillna(0)
    cur, before = total(deals, amount.where(this_q, 0)), total(deals, amount.where(last_q, 0))
    n_signed = count(deals, this_q)

    def new_amount(k: Any) -> Measure:
        value = round(get(cur, k), 6)
        return Measure(value, int(get(n_signed, k)), None)

    def qoq(k: Any) -> Measure:
        now, then = round(get(cur, k), 6), round(get(before, k), 6)
        if not then:
            return Measure(NO_DATA, round(now - then, 6), then)
        return Measure((now - then) / then, round(now - then, 6), then)

    return {
        "customers": as_count(count(view)),
        "completeness": as_ratio("completeness", total(view, filled_n), total(view, expected_n)),
        "issue_closure": as_ratio(
            "issue_closure", count(maint, issue & closed), count(maint, issue)
        ),
        "response_on_time": as_ratio(
            "response_on_time", count(maint, in_time), count(maint, timed)
        ),
        "top_contact_coverage": as_ratio(
            "top_contact_coverage", count(view, reached), count(view, group)
        ),
        "new_customers": as_count(count(view, new)),
        "lost_customers": as_count(count(view, lost)),
        "new_contract_amount": new_amount,
        "new_contract_amount_qoq": qoq,
        "high_risk_customers": as_count(count(view, high)),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
