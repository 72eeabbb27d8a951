"""What each customer's conclusions stand on: the rejected rows that feed its tier or risk.

Decisions (DOMAIN §5 "No conclusion from partial data"):
- The rows that feed tiers and risk are those of 合同台账 (tier, overdue_payment),
  接待登记表 and 维护管理登记表 (contact rules) and 风险分析报告 (reported risks).
- A rejected row counts for the customer named by its 统一社会信用代码. A rejected row with
  no usable code could be any customer's of its file: it counts for every register customer
  whose row came from that branch and quarter. Duplicates are not counted (their surviving
  twin is merged), nor are files superseded by a newer one (the newer one stands in).
- A file rejected whole counts for the customers of its branch, when the branch is known;
  so does a feeding sheet missing from a merged file (its rows were never sent).
- Only each branch's latest quarter in the register counts: an older rejection was either
  corrected by the later submission or rejected again and counted there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kam.forms import CONTRACTS, MAINTENANCE, RECEPTION, RISK, ROSTER
from kam.rules import Rules
from kam.submission import Submission

FEEDING: dict[str, str] = {
    CONTRACTS.sheet: "contracts",
    RECEPTION.sheet: "logs",
    MAINTENANCE.sheet: "logs",
    RISK.sheet: "risk",
}
"""Sheet name -> which conclusions its rows feed (contracts: tier and risk; the rest: risk)."""
KIND_TEXT = {"contracts": "合同", "logs": "接待/维护记录", "risk": "风险报告"}

NEEDED: dict[str, frozenset[str]] = {
    ROSTER.id: frozenset({"name", "uscc", "tier", "unit", "strategic", "listed_on"}),
    CONTRACTS.id: frozenset({"uscc", "contract_no", "signed_on", "amount", "pay_status"}),
    RECEPTION.id: frozenset({"date", "uscc", "top_level"}),
    MAINTENANCE.id: frozenset({"date", "uscc", "method", "unit"}),
    RISK.id: frozenset({"uscc", "risk_type", "level", "found_on"}),
}
"""Required columns the rules read (identity, tiers, risk, ownership), by form id.

A required column missing from a sheet rejects every row of the sheet only when it is one
of these; any other missing required column (项目名称, 来访人员, 风险描述, …) leaves the
rows merged with the column blank, and the file is reported as partial with the reason.
The 信息登记卡 needs only its 统一社会信用代码 (a missing required column there is always
the key)."""

NOT_COUNTED = frozenset({"duplicate", "superseded"})


@dataclass(frozen=True)
class Rejected:
    """Per register customer: rejected rows by kind, and the files rejected whole."""

    contracts: pd.Series  # int per roster row
    logs: pd.Series
    risk: pd.Series
    files: pd.Series  # tuple of file names per roster row
    sheets: pd.Series  # tuple of feeding sheets missing from its branch's file
    verb: str = "被拒收"
    where: str = "（见“拒收记录”）"

    @property
    def total(self) -> pd.Series:
        return self.contracts + self.logs + self.risk

    @property
    def any(self) -> pd.Series:
        """Customers with anything left out."""
        return (self.total > 0) | self.files.map(bool) | self.sheets.map(bool)

    @property
    def tier_doubt(self) -> pd.Series:
        """Customers whose tier may lack contracts (rejected rows, file or ledger missing)."""
        ledger = self.sheets.map(lambda s: CONTRACTS.sheet in s)
        return (self.contracts > 0) | self.files.map(bool) | ledger

    def frame(self) -> pd.DataFrame:
        """rejected_inputs and the note per customer (for the JSON documents)."""
        notes = pd.Series([self.note(i) for i in self.total.index], self.total.index, object)
        return pd.DataFrame({"rejected_inputs": self.total, "note": notes})

    def note(self, i: object, kinds: tuple[str, ...] = tuple(KIND_TEXT)) -> str | None:
        """'合同 2 行被拒收…' for one roster row (rows of `kinds`), or None when none was."""
        parts = [
            f"{KIND_TEXT[k]} {int(getattr(self, k)[i])} 行" for k in kinds if getattr(self, k)[i]
        ]
        text = f"{'、'.join(parts)}{self.verb}" if parts else ""
        files = self.files[i]
        if files:
            whole = f"报送文件 {'、'.join(files)} 整份拒收"
            text = f"{text}，{whole}" if text else whole
        if text:
            text += self.where
        wanted = {s for s, k in FEEDING.items() if k in kinds}
        sheets = [s for s in self.sheets[i] if s in wanted]
        if sheets:
            gone = f"本单位报送缺少工作表 {'、'.join(sheets)}"
            text = f"{text}，{gone}" if text else gone
        return text or None


def rejected_inputs(view: pd.DataFrame, refused: pd.DataFrame, sources: pd.DataFrame) -> Rejected:
    """Count, for every row of the register view, the rejected rows feeding its conclusions."""
    zero = pd.Series(0, index=view.index, dtype=int)
    empty = pd.Series([() for _ in range(len(view))], index=view.index, dtype=object)
    if view.empty:
        return Rejected(zero, zero.copy(), zero.copy(), empty, empty.copy())
    sheets = _missing_sheets(view, sources)
    if refused is None or refused.empty:
        return Rejected(zero, zero.copy(), zero.copy(), empty, sheets)
    latest = _latest_by_unit(sources)
    r = refused[~refused["rule"].isin(NOT_COUNTED)]
    current = [
        latest.get(u) is None or q is None or q == latest.get(u) or not isinstance(q, str)
        for u, q in zip(r["unit"], r["quarter"], strict=True)
    ]
    r = r[pd.Series(current, index=r.index, dtype=bool)] if len(r) else r
    keys = view["uscc"].map(_key)
    slots = pd.Series(list(zip(view["source_unit"], view["quarter"], strict=True)), view.index)
    counts = {k: zero.copy() for k in ("contracts", "logs", "risk")}
    rows = r[r["sheet"].isin(list(FEEDING))]
    keyed = rows["uscc"].map(_key)
    if "original" in rows:  # a register written before 拒收记录 had the code column
        keyed = keyed.where(keyed.notna(), rows["original"].map(_code_in_original))
    for kind in counts:
        of_kind = rows["sheet"].map(FEEDING) == kind
        by_key = keyed[of_kind & keyed.notna()].value_counts()
        counts[kind] += keys.map(by_key).fillna(0).astype(int)
        loose = rows[of_kind & keyed.isna()]
        by_slot = Counter(zip(loose["unit"], loose["quarter"], strict=True))
        counts[kind] += np.fromiter((by_slot[s] for s in slots), int, len(slots))
    whole = r[r["sheet"].isna() & r["row"].isna()]
    files_by_unit: dict[str, list[str]] = {}
    for unit, file in zip(whole["unit"], whole["file"], strict=True):
        if isinstance(unit, str) and unit:
            files_by_unit.setdefault(unit, []).append(str(file))
    owners = view["unit"].where(view["unit"].notna(), view["source_unit"])
    files = pd.Series(
        [
            tuple(dict.fromkeys(files_by_unit.get(o, []) + files_by_unit.get(s, [])))
            for o, s in zip(owners, view["source_unit"], strict=True)
        ],
        index=view.index,
        dtype=object,
    )
    return Rejected(counts["contracts"], counts["logs"], counts["risk"], files, sheets)


def _missing_sheets(view: pd.DataFrame, sources: pd.DataFrame) -> pd.Series:
    """Per customer, the feeding sheets missing from the file its register row came from."""
    by_slot: dict[tuple[object, object], tuple[str, ...]] = {}
    if sources is not None and len(sources):
        for unit, quarter, text in zip(
            sources["unit"], sources["quarter"], sources["missing_sheets"], strict=True
        ):
            names = str(text).split("、") if isinstance(text, str) and text else []
            feeding = tuple(n for n in names if n in FEEDING)
            if feeding:
                by_slot[(unit, quarter)] = feeding
    return pd.Series(
        [by_slot.get(s, ()) for s in zip(view["source_unit"], view["quarter"], strict=True)],
        index=view.index,
        dtype=object,
    )


def submission_rejected(sub: Submission, rules: Rules, today: dt.date | None = None) -> Rejected:
    """What a merge would refuse of one submission, per roster row (`kam tier`, `kam risk`)."""
    from kam.register.intake import FileOutcome, Intake, IntakeSettings, sort_submission

    roster = sub.sheets[ROSTER.id].frame if ROSTER.id in sub.sheets else pd.DataFrame()
    settings = IntakeSettings(today=today or dt.date.today(), rules=rules)
    intake = sort_submission(Intake(FileOutcome(file=sub.file)), sub, settings)
    view = pd.DataFrame(
        {
            "uscc": roster.get("uscc", pd.Series(dtype=object)),
            "unit": roster.get("unit", pd.Series(dtype=object)),
        },
        index=roster.index,
        dtype=object,
    )
    o = intake.outcome
    view["source_unit"], view["quarter"] = o.branch, o.quarter
    refused = pd.DataFrame(
        intake.refused, columns=["file", "unit", "quarter", "sheet", "row", "uscc", "rule"]
    )
    sources = pd.DataFrame(
        [
            {
                "unit": o.branch,
                "quarter": o.quarter,
                "status": o.status,
                "missing_sheets": "、".join(o.missing_sheets),
            }
        ]
    )
    lost = rejected_inputs(view, refused, sources)
    return replace(lost, verb="有错误", where="（见 kam validate 或“校验本簿”）")


_CODE_IN_ORIGINAL = re.compile(re.escape(CONTRACTS["uscc"].header) + r"=([0-9A-Za-z]{18})(?:；|$)")


def _code_in_original(text: object) -> str | None:
    """The 统一社会信用代码 named in a 拒收记录 原始值 (`表头=值；…`), if any."""
    m = _CODE_IN_ORIGINAL.search(text) if isinstance(text, str) else None
    return m.group(1).upper() if m else None


def _key(value: object) -> str | None:
    return value.strip().upper() or None if isinstance(value, str) else None


def _latest_by_unit(sources: pd.DataFrame) -> dict[str, str]:
    """Each branch's latest quarter among its files (merged or rejected)."""
    out: dict[str, str] = {}
    if sources is None or sources.empty:
        return out
    for unit, quarter, status in zip(
        sources["unit"], sources["quarter"], sources["status"], strict=True
    ):
        if isinstance(unit, str) and isinstance(quarter, str) and status != "superseded":
            out[unit] = max(out.get(unit, quarter), quarter)
    return out
