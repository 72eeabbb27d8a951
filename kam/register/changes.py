"""季度变更: what changed in the register since the previous one (DOMAIN §5)."""

from __future__ import annotations

import pandas as pd

from kam.register.columns import CHANGES, NO_RISK
from kam.submission import display

NEW, REMOVED = "新增客户", "移除客户"
TIER_CHANGED, RECORDED_CHANGED, RISK_CHANGED = "计算等级变化", "登记等级变化", "风险等级变化"

_COMPARED = (("calc_tier", TIER_CHANGED), ("tier", RECORDED_CHANGED), ("risk_level", RISK_CHANGED))


def quarter_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """One row per new or removed customer and per changed tier or risk level."""
    ids = [f.id for f in CHANGES.fields]
    before = _by_key(old)
    after = _by_key(new)
    rows: list[dict[str, object]] = []
    for key, row in after.items():
        prev = before.get(key)
        if prev is None:
            rows.append(_row(key, row, NEW, "", display(row.get("calc_tier"))))
            continue
        for fid, label in _COMPARED:
            a, b = _level(prev.get(fid), fid), _level(row.get(fid), fid)
            if a != b:
                rows.append(_row(key, row, label, a, b))
    for key, row in before.items():
        if key not in after:
            rows.append(_row(key, row, REMOVED, display(row.get("calc_tier")), ""))
    return pd.DataFrame(rows, columns=ids, dtype=object)


def _by_key(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    if frame is None or frame.empty or "uscc" not in frame:
        return {}
    out: dict[str, dict[str, object]] = {}
    for rec in frame.to_dict(orient="records"):
        key = rec.get("uscc")
        if isinstance(key, str) and key:
            out[key] = rec
    return out


def _level(value: object, fid: str) -> str:
    text = display(value).strip()
    return (text or NO_RISK) if fid == "risk_level" else text


def _row(key: str, rec: dict[str, object], change: str, before: str, after: str) -> dict:
    return {
        "uscc": key,
        "name": rec.get("name"),
        "change": change,
        "before": before,
        "after": after,
        "source_unit": rec.get("source_unit"),
    }
