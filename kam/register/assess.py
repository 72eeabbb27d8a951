"""Tiers and risk of the merged register: 计算等级 / 等级依据 / 等级核对, 风险等级 / 风险原因
and the 风险清单 rows, over every merged row (kam.tiers and kam.risk do the work)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam.forms import CONTRACTS, ROSTER
from kam.register.columns import RISK_LIST
from kam.register.inputs import Rejected
from kam.risk import RiskInput, assess
from kam.rule_names import rule_name
from kam.rules import Rules
from kam.tiers import check_tiers, compute_tiers, quarter_end, tier_labels

UNVERIFIED = "unverified"
CHECK_TEXT = {
    "ok": "一致",
    "tier_unsupported": "需认定依据",
    "tier_upgrade": "建议升级",
    UNVERIFIED: "待核实",
}
_COMPUTED = ("calc_tier", "tier_reason", "tier_check", "risk_level", "risk_reason")


def register_as_of(view: pd.DataFrame) -> dt.date | None:
    """The evaluation date: the last day of the latest quarter in the register."""
    quarters = [q for q in view["quarter"] if isinstance(q, str) and q]
    return quarter_end(max(quarters)) if quarters else None


def unique_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Every merged contract once: the same contract sent in two quarters counts once."""
    deals = contracts.copy()
    deals["_q"] = deals["quarter"].fillna("").astype(str)
    deals = deals.sort_values("_q", kind="stable").drop_duplicates(
        ["uscc", "contract_no"], keep="last"
    )
    deals["signed_on"] = pd.to_datetime(deals["signed_on"], errors="coerce")
    deals["amount"] = pd.to_numeric(deals["amount"], errors="coerce")
    deals["overdue_days"] = pd.to_numeric(deals["overdue_days"], errors="coerce")
    return deals[[f.id for f in CONTRACTS.data_fields]].reset_index(drop=True)


def register_risk_input(
    view: pd.DataFrame, stores: dict[str, pd.DataFrame], as_of: dt.date, rules: Rules
) -> tuple[RiskInput, pd.DataFrame]:
    """The risk engine's input over every merged row, and the customers' computed tiers."""
    roster = view[[f.id for f in ROSTER.data_fields]]
    deals = unique_contracts(stores["contracts"])
    tiers = compute_tiers(roster, deals, as_of, rules.tier)
    data = RiskInput(
        roster=roster,
        contracts=deals,
        reception=_dated(stores["reception"], "date"),
        maintenance=_dated(stores["maintenance"], "date", "deadline", "closed_on"),
        risk=_dated(stores["risk"], "found_on"),
        tiers=tiers["computed"],
    )
    return data, tiers


def guarded_checks(
    checks: pd.Series, computed: pd.Series, doubt: pd.Series, rules: Rules
) -> pd.Series:
    """The tier checks the rejected contracts could overturn become 'unverified'.

    Rejected contracts can only raise a computed tier: 'tier_upgrade' stands, and so does
    any check of a customer already at the top tier; 'ok' and 'tier_unsupported' may not.
    """
    top = tier_labels(rules.tier)[0]
    doubt = doubt & (computed != top) & checks.isin(["ok", "tier_unsupported"])
    return checks.where(~doubt, UNVERIFIED)


def guarded_reasons(
    reasons: pd.Series,
    computed: pd.Series,
    lost: Rejected,
    rules: Rules,
    consequence: str = "计算等级可能偏低",
) -> pd.Series:
    """The tier reasons, saying when rejected contracts may have been left out."""
    top = tier_labels(rules.tier)[0]
    out = reasons.copy()
    for i in reasons.index[lost.tier_doubt]:
        if computed[i] != top:
            out[i] = f"{reasons[i]}；但{lost.note(i, ('contracts',))}，{consequence}"
    return out


def assess_register(
    view: pd.DataFrame,
    stores: dict[str, pd.DataFrame],
    rules: Rules,
    lost: Rejected | None = None,
) -> pd.DataFrame:
    """Fill the computed columns of `view` in place; return the 风险清单 rows.

    With `lost` (the rejected rows feeding each customer), no verdict is stated that those
    rows could overturn: see guarded_checks, guarded_reasons and the risk note.
    """
    ids = [f.id for f in RISK_LIST.fields]
    as_of = register_as_of(view)
    if view.empty or as_of is None:
        for fid in _COMPUTED:
            view[fid] = None
        return pd.DataFrame(columns=ids, dtype=object)
    data, tiers = register_risk_input(view, stores, as_of, rules)
    view["calc_tier"] = tiers["computed"]
    checks = check_tiers(view["tier"], tiers["computed"], rules.tier)
    view["tier_reason"] = tiers["reason"]
    if lost is not None:
        checks = guarded_checks(checks, tiers["computed"], lost.tier_doubt, rules)
        view["tier_reason"] = guarded_reasons(tiers["reason"], tiers["computed"], lost, rules)
    view["tier_check"] = checks.map(CHECK_TEXT)
    result = assess(data, as_of, rules)
    view["risk_level"] = result.customers["level"]
    view["risk_reason"] = result.customers["reasons"].map(
        lambda rs: "；".join(f"[{r.level}] {rule_name(r.rule)}：{r.detail}" for r in rs) or None
    )
    if lost is not None:
        view["risk_reason"] = risk_notes(view["risk_reason"], lost)
    hits = result.hits
    if hits.empty:
        return pd.DataFrame(columns=ids, dtype=object)
    rows = pd.DataFrame(
        {
            "uscc": hits["uscc"].to_numpy(object),
            "name": hits["name"].to_numpy(object),
            "unit": view["unit"].reindex(hits["customer"]).to_numpy(object),
            "rule": hits["rule"].to_numpy(object),
            "rule_name": hits["rule"].map(rule_name).to_numpy(object),
            "risk_level": hits["level"].to_numpy(object),
            "detail": hits["detail"].to_numpy(object),
        }
    )
    return rows.reindex(columns=ids)


def risk_notes(reasons: pd.Series, lost: Rejected) -> pd.Series:
    """Risk reasons that say which rejected rows the assessment could not use."""
    out = reasons.copy()
    for i in reasons.index[lost.any]:
        note = f"风险评估未计入：{lost.note(i)}，风险等级可能不同"
        out[i] = f"{reasons[i]}；{note}" if isinstance(reasons[i], str) and reasons[i] else note
    return out


def _dated(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Date columns as datetime64 (rows read back from the register hold Python datetimes)."""
    out = frame.reset_index(drop=True).copy()
    for c in columns:
        out[c] = pd.to_datetime(out[c], errors="coerce")
    return out
