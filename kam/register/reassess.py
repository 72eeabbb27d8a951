"""Risk on the register: `kam risk REGISTER` reads every merged row; `--apply` rewrites it.

The register is regenerated through the same builder and writer as a merge (under the
lock, atomically, the previous one kept in history/), with no new files: only the
computed columns, 风险清单, the highlights and 季度变更 can change. HQ's 人工风险等级 wins over
the computed level wherever it is filled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kam.errors import UsageError
from kam.register.archive import with_archive
from kam.register.assess import register_as_of, register_risk_input
from kam.register.edits import EditReport
from kam.register.inputs import rejected_inputs
from kam.register.limits import SheetLimits
from kam.register.merge import _build, judged_edits, save_register
from kam.register.owners import resolve
from kam.register.previous import Previous, read_previous
from kam.register.safety import register_lock
from kam.risk import RiskResult, assess, risk_json
from kam.rules import Rules


@dataclass
class RegisterRisk:
    """The computed risk of every register customer, and HQ's manual overrides."""

    as_of: dt.date
    result: RiskResult
    manual: dict[str, str]  # USCC -> 人工风险等级
    lost: pd.DataFrame | None = None  # rejected_inputs and note per customer

    def to_json(self) -> dict[str, Any]:
        doc = risk_json(self.result, self.as_of, self.lost)
        for customer in doc["customers"]:
            manual = self.manual.get(customer["key"] or "")
            customer["computed_level"] = customer["level"]
            customer["manual_level"] = manual
            if manual:  # HQ's override wins and is shown as such
                customer["level"] = manual
        return doc


def register_risk(register: Path, rules: Rules, as_of: dt.date | None = None) -> RegisterRisk:
    """Risk levels and reasons over every merged contract and log of the register file."""
    prev = read_previous(register)
    if prev.exists:
        with_archive(prev, register, rules, as_of)
    return risk_of(prev, str(register), rules, as_of)


def risk_of(prev: Previous, register: str, rules: Rules, as_of: dt.date | None) -> RegisterRisk:
    """Risk over a register's content (read from a file or from a book open in Excel)."""
    if not prev.exists:
        raise UsageError(f"{register} 不是已有的集团大客户名录，请先运行 kam merge")
    view = resolve(prev.tables["roster"]).view.reset_index(drop=True)
    when = as_of or register_as_of(view)
    if when is None:
        raise UsageError(f"{register} 中没有可识别的报送季度，请用 --as-of 指定评价日期")
    data, _ = register_risk_input(view, prev.tables, when, rules)
    manual = {
        key: str(values["manual_risk"])
        for key, values in prev.hq.items()
        if values.get("manual_risk") not in (None, "")
    }
    lost = rejected_inputs(view, prev.refused, prev.sources).frame()
    return RegisterRisk(when, assess(data, when, rules), manual, lost)


def apply_risk(register: Path, rules: Rules) -> EditReport:
    """Rewrite the register's computed risk columns, 风险清单 and highlights.

    The register is regenerated as a merge would (the rules file's branch list and history
    depth); HQ's hand edits are judged the same way and the lost ones returned.
    """
    with register_lock(register):
        prev = read_previous(register)
        if not prev.exists:
            raise UsageError(f"{register} 不是已有的集团大客户名录，请先运行 kam merge")
        data, _ = _build(prev, [], rules, tuple(rules.merge.branches))
        save_register(register, data, SheetLimits(), rules.merge.keep_history)
        return judged_edits(register, prev, data, set())
