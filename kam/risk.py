"""The risk engine (DOMAIN §4): levels and reasons per customer, vectorized over all rows.

Readings of the spec, decided here (thresholds and windows live in the rules file [risk]):
- "the last 2 quarters" (reported_risk, leadership_change) = found_on from the first day of
  the quarter before as-of's quarter up to as-of, both ends included;
- a 决策层变更 row fires leadership_change (中) AND reported_risk (its reported level):
  reported_risk is for any row other than 破产征兆;
- bankruptcy has no window: any 破产征兆 row found on or before as-of (or undated) fires;
- "集团级" (few_top_contacts, unauthorised_contact) = recorded 大客户等级 集团级 OR computed
  tier 集团级: either one makes HQ responsible for the customer;
- few_top_contacts counts 高层接触 dated after as-of minus 12 months and up to as-of
  (the 12 months of days ending on as-of; the same day a year earlier does not count);
- no_contact: a reception or maintenance entry dated as-of minus 90 days .. as-of counts;
- open_issue_overdue: not closed (是否闭环 blank or 否) and 响应时限 strictly before as-of;
- evidence dated after as-of is ignored, and rows of customers not in the roster too.
A customer's hits are one per fired rule: its level is the worst evidence's and its detail
names up to three pieces of evidence, worst first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kam import risk_rules as rr
from kam.forms import CONTRACTS, MAINTENANCE, RECEPTION, RISK, ROSTER
from kam.rules import Rules
from kam.submission import Submission
from kam.tiers import compute_tiers

__all__ = ["RiskInput", "RiskReason", "RiskResult", "assess", "risk_input", "risk_json"]

DETAIL_ITEMS = 3
"""How many pieces of evidence a hit's detail names before '等 N 项'."""


@dataclass(frozen=True)
class RiskInput:
    """The frames the risk rules read (columns = kam.forms field ids; any may be empty)."""

    roster: pd.DataFrame
    contracts: pd.DataFrame
    reception: pd.DataFrame
    maintenance: pd.DataFrame
    risk: pd.DataFrame
    tiers: pd.Series | None = None  # computed tier per roster row; None -> compute


@dataclass(frozen=True)
class RiskReason:
    """One fired rule of a customer, with the evidence in Chinese."""

    rule: str
    level: str
    detail: str


@dataclass
class RiskResult:
    """Per-customer levels and reasons, the hits behind them and the bankruptcy list."""

    customers: pd.DataFrame  # uscc, name, level, reasons; index aligned with the roster
    hits: pd.DataFrame  # one row per (customer, fired rule), worst level first
    bankrupt: list[str]


HIT_COLUMNS = ("customer", "uscc", "name", "rule", "level", "detail", "form", "row", "field")
"""customer = roster index label; form/row/field = the deciding source cell (field None for
customer-level rules); rows = every source row index of that form behind the hit."""


def risk_input(sub: Submission, tiers: pd.Series | None = None) -> RiskInput:
    """The risk input of a read submission (a missing sheet gives an empty frame)."""

    def frame(form_id: str) -> pd.DataFrame:
        data = sub.sheets.get(form_id)
        return pd.DataFrame() if data is None else data.frame

    return RiskInput(
        roster=frame(ROSTER.id),
        contracts=frame(CONTRACTS.id),
        reception=frame(RECEPTION.id),
        maintenance=frame(MAINTENANCE.id),
        risk=frame(RISK.id),
        tiers=tiers,
    )


def assess(data: RiskInput, as_of: dt.date, rules: Rules) -> RiskResult:
    """Every risk rule over every customer of the roster."""
    p = _prepare(data, as_of, rules)
    parts = [
        *rr.risk_reports(p),
        *rr.overdue_payment(p),
        *rr.contact_rules(p),
        *rr.maintenance_rules(p),
    ]
    hits = _hits(parts, p.roster)
    return _result(p.roster, hits)


def _prepare(data: RiskInput, as_of: dt.date, rules: Rules) -> rr.Prepared:
    roster = rr.complete(data.roster, ROSTER)
    contracts = rr.complete(data.contracts, CONTRACTS)
    reception = rr.complete(data.reception, RECEPTION)
    maint = rr.complete(data.maintenance, MAINTENANCE)
    risk = rr.complete(data.risk, RISK)
    keys_r = rr.text(roster["uscc"], fold=True, upper=True)
    keys = pd.Index(keys_r.dropna().unique(), dtype=object)

    def code(frame: pd.DataFrame) -> np.ndarray:
        return rr.key_codes(keys, frame["uscc"])

    tiers = data.tiers
    if tiers is None:
        tiers = compute_tiers(roster, contracts, as_of, rules.tier)["computed"]
    recorded = rr.text(roster["tier"]).to_numpy(object)
    group = (recorded == rr.GROUP_TIER) | (np.asarray(tiers, dtype=object) == rr.GROUP_TIER)
    cust = pd.DataFrame(
        {
            "pos": np.arange(len(roster)),
            "code": keys.get_indexer(keys_r),
            "group": group,
        },
        index=roster.index,
    )
    # Text kept as object so blanks stay None (pandas would infer str and make them NaN).
    cust["uscc"] = keys_r
    cust["name"] = pd.Series(roster["name"].to_numpy(object, na_value=None), roster.index, object)
    cust["unit"] = rr.text(roster["unit"])
    cust["unit_key"] = rr.text(roster["unit"], fold=True)
    con = pd.DataFrame(
        {
            "code": code(contracts),
            "status": contracts["pay_status"],  # cleaned only where days are given
            "overdue": pd.to_numeric(contracts["overdue_days"], errors="coerce").astype(float),
            "number": contracts["contract_no"],  # cleaned only for the contracts that fire
        },
        index=contracts.index,
    )
    m = pd.DataFrame(
        {
            "code": code(maint),
            "day": rr.days(maint["date"]),
            "due": rr.days(maint["deadline"]),
            "closed": maint["closed"],  # cleaned only where the deadline has passed
            "issue": maint["issue"],
            "summary": maint["summary"],
            "unit": rr.text(maint["unit"]),
            "unit_key": rr.text(maint["unit"], fold=True),
            "top": (rr.text(maint["method"]) == rr.TOP_METHOD).to_numpy(bool),
        },
        index=maint.index,
    )
    rec = pd.DataFrame(
        {
            "code": code(reception),
            "day": rr.days(reception["date"]),
            "top": (rr.text(reception["top_level"]) == rr.YES).to_numpy(bool),
        },
        index=reception.index,
    )
    contacts = pd.concat(
        [rec.assign(form=RECEPTION.id), m[["code", "day", "top"]].assign(form=MAINTENANCE.id)]
    )
    rsk = pd.DataFrame(
        {
            "code": code(risk),
            "day": rr.days(risk["found_on"]),
            "type": rr.text(risk["risk_type"]),
            "lvl": rr.text(risk["level"]),
            "description": risk["description"],
        },
        index=risk.index,
    )
    return rr.Prepared(
        as_of=np.datetime64(_day(as_of), "D"),
        rules=rules.risk,
        roster=cust,
        contracts=con,
        contacts=contacts,
        maintenance=m,
        risk=rsk,
    )


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _hits(parts: list[pd.DataFrame], cust: pd.DataFrame) -> pd.DataFrame:
    """One row per (roster position, rule) from the evidence rows, worst level first."""
    parts = [p for p in parts if not p.empty]
    ev = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=rr.EVIDENCE)
    cols = {c: ev[c].to_numpy(object) for c in ("detail", "form", "row", "field")}
    pos, code = ev["pos"].to_numpy(int), ev["code"].to_numpy(int)
    take = _spread(pos, code, cust["code"].to_numpy(int))
    keyed = pos < 0
    pos = np.r_[pos[~keyed], take[1]]
    take = np.r_[np.flatnonzero(~keyed), take[0]]
    rule, rank = ev["rule"].to_numpy(int)[take], ev["rank"].to_numpy(int)[take]
    order = np.lexsort((ev["order"].to_numpy(float)[take], -rank, rule, pos))
    take, pos, rule, rank = take[order], pos[order], rule[order], rank[order]
    new = np.r_[True, (pos[1:] != pos[:-1]) | (rule[1:] != rule[:-1])] if len(pos) else pos > 0
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    nth = np.arange(len(pos)) - starts[group]
    n = np.diff(np.r_[starts, len(pos)])
    rows = cols["row"][take].tolist()
    detail = _joined(cols["detail"][take], group, nth, n)
    # Worst level first, then roster order, then the rules' catalogue order.
    out = np.lexsort((rule[starts], pos[starts], -rank[starts]))
    first = starts[out]
    bounds = np.c_[first, first + n[out]].tolist()
    hit_pos = pos[first]
    data = {
        "customer": cust.index.to_numpy(object)[hit_pos],
        "uscc": cust["uscc"].to_numpy(object)[hit_pos],
        "name": cust["name"].to_numpy(object)[hit_pos],
        "rule": np.array(rr.RULES, dtype=object)[rule[first]],
        "level": np.array(rr.LEVEL_OF_RANK, dtype=object)[rank[first]],
        "detail": detail[out],
        "form": cols["form"][take[first]],
        "row": cols["row"][take[first]],
        "field": cols["field"][take[first]],
        "rows": [tuple(rows[a:b]) for a, b in bounds],
    }
    hits = pd.DataFrame(data, dtype=object)
    hits["pos"], hits["rank"] = hit_pos, rank[first]
    return hits


def _spread(pos: np.ndarray, code: np.ndarray, cust_code: np.ndarray) -> np.ndarray:
    """Evidence keyed by a customer code reaches every roster row holding that code.

    Returns [evidence row, roster position] pairs (shape 2 x k) for the code-keyed rows.
    """
    keyed = np.flatnonzero(pos < 0)
    by_code = np.argsort(cust_code, kind="stable")
    sorted_codes = cust_code[by_code]
    lo = np.searchsorted(sorted_codes, code[keyed], "left")
    count = np.searchsorted(sorted_codes, code[keyed], "right") - lo
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return np.vstack([np.repeat(keyed, count), by_code[np.repeat(lo, count) + offset]])


def _joined(detail: np.ndarray, group: np.ndarray, nth: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per hit, its first DETAIL_ITEMS details joined with '；' (and the total when more)."""
    out = np.full(len(n), "", dtype=object)
    for k in range(DETAIL_ITEMS):  # a few vectorized passes, not one per hit
        at = nth == k
        sep = "" if k == 0 else "；"
        out[group[at]] = out[group[at]] + sep + detail[at]
    more = n > DETAIL_ITEMS
    out[more] = out[more] + "；等共 " + n[more].astype(str).astype(object) + " 项"
    return out


def _result(cust: pd.DataFrame, hits: pd.DataFrame) -> RiskResult:
    n = len(cust)
    rank = np.zeros(n, dtype=int)
    reasons: list[list[RiskReason]] = [[] for _ in range(n)]
    if len(hits):
        np.maximum.at(rank, hits["pos"].to_numpy(int), hits["rank"].to_numpy(int))
        # Hits are sorted worst first, so each customer's reasons are too.
        for pos, rule, level, detail in zip(
            hits["pos"].tolist(),
            hits["rule"].tolist(),
            hits["level"].tolist(),
            hits["detail"].tolist(),
            strict=True,
        ):
            reasons[pos].append(RiskReason(rule, level, detail))
    customers = pd.DataFrame(
        {
            "uscc": cust["uscc"].to_numpy(object),
            "name": cust["name"].to_numpy(object),
            "unit": cust["unit"].to_numpy(object) if "unit" in cust else None,  # 责任单位
            "level": np.array(rr.LEVEL_OF_RANK, dtype=object)[rank],
            "reasons": pd.Series(reasons, dtype=object).to_numpy(),
        },
        index=cust.index,
        dtype=object,  # blanks stay None (JSON null), not NaN
    )
    bankrupt = hits.loc[hits["rule"] == "bankruptcy", ["pos", "uscc"]].sort_values("pos")
    return RiskResult(
        customers=customers,
        hits=hits.drop(columns=["pos", "rank"]),
        bankrupt=list(dict.fromkeys(bankrupt["uscc"].dropna())),
    )


def risk_json(
    result: RiskResult, as_of: dt.date, lost: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The `kam risk --json` document (DOMAIN §7.1), plus the bankruptcy list.

    `lost` (index aligned with the customers: columns rejected_inputs, note) adds to each
    customer how many rows feeding its risk were rejected, and what was left out.
    """
    c = result.customers
    customers = [
        {
            "key": key,
            "name": name,
            "level": level,
            "reasons": [{"rule": r.rule, "level": r.level, "detail": r.detail} for r in rs],
        }
        for key, name, level, rs in zip(c["uscc"], c["name"], c["level"], c["reasons"], strict=True)
    ]
    if lost is not None:
        for doc, n, note in zip(
            customers, lost["rejected_inputs"].tolist(), lost["note"].tolist(), strict=True
        ):
            doc["rejected_inputs"], doc["not_assessed"] = int(n), note
    return {
        "as_of": _day(as_of).isoformat(),
        "customers": customers,
        "bankrupt": list(result.bankrupt),
    }
