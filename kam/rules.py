"""The editable rules file: thresholds and windows, with defaults, validated by pydantic."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kam.errors import RulesFileError
from kam.rules_errors import toml_problem, validation_problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultTierProfile(_Strict):
    """DOMAIN §3: 集团级 / 分公司级 / 项目级 / 未达标 by contract amounts in a window."""

    window_years: int = Field(5, ge=1, le=50)
    group_amount_gt: float = Field(20000, gt=0)
    group_min_count: int = Field(2, ge=1)
    branch_amount_ge: float = Field(10000, gt=0)
    project_amount_ge: float = Field(5000, gt=0)


class ParetoProfile(_Strict):
    """A/B/C by cumulative share of revenue (top a_share = A, up to b_share = B, rest C)."""

    a_share: float = Field(0.80, gt=0, lt=1)
    b_share: float = Field(0.95, gt=0, le=1)
    labels: tuple[str, str, str] = ("A", "B", "C")


class Band(_Strict):
    """One band of a threshold table: `label` when the measure is at least `min`."""

    label: str
    min: float


class ThresholdProfile(_Strict):
    """A threshold table on one measure, highest band first."""

    measure: Literal["window_total", "max_contract"] = "window_total"
    bands: tuple[Band, ...] = (
        Band(label="钻石", min=500),
        Band(label="白金", min=100),
        Band(label="金", min=10),
    )
    otherwise: str = "大众"


class TierRules(_Strict):
    """Which tier scheme is used, and the settings of each."""

    scheme: Literal["default", "pareto", "threshold"] = "default"
    default: DefaultTierProfile = DefaultTierProfile()
    pareto: ParetoProfile = ParetoProfile()
    threshold: ThresholdProfile = ThresholdProfile()


class RiskRules(_Strict):
    """DOMAIN §4: thresholds and windows of the risk rules."""

    report_quarters: int = Field(2, ge=1, le=40)  # current quarter of as-of and the ones before
    overdue_medium_gt: int = Field(30, ge=0)  # 逾期天数 above this: 中 (1 .. this: 低)
    overdue_high_gt: int = Field(90, ge=1)  # 逾期天数 above this: 高
    top_contact_months: int = Field(12, ge=1, le=120)
    top_contact_min: int = Field(2, ge=1)
    no_contact_days: int = Field(90, ge=1, le=3650)

    @model_validator(mode="after")
    def _bands_in_order(self) -> RiskRules:
        if self.overdue_medium_gt >= self.overdue_high_gt:
            raise ValueError("overdue_medium_gt 应小于 overdue_high_gt")
        return self


class MergeRules(_Strict):
    """Where HQ's register lives, which branches should submit, how many old registers to keep."""

    register_file: str = ""  # "" = 集团大客户名录.xlsx in the folder holding the inbox folder
    branches: list[str] = []
    keep_history: int = Field(10, ge=0, le=1000)


class ArchiveRules(_Strict):
    """Which events the register keeps; the older ones move to the yearly archive workbooks."""

    keep_quarters: int = Field(4, ge=1, le=400)  # the latest N quarters up to as-of
    keep_current_year: bool = True  # and every event of as-of's year


class KpiRules(_Strict):
    """DOMAIN §9.1: the branch scorecard's targets (shares are fractions: 0.98 = 98%)."""

    deadline_days: int = Field(15, ge=0, le=366)  # on time: 报送日期 <= quarter end + N days
    completeness_min: float = Field(0.98, ge=0, le=1)
    error_rate_max: float = Field(0.05, ge=0, le=1)
    issue_closure_min: float = Field(0.95, ge=0, le=1)
    response_on_time_min: float = Field(0.90, ge=0, le=1)
    top_contact_coverage_min: float = Field(1.0, ge=0, le=1)


class NoticeRules(_Strict):
    """DOMAIN §9.4: the 预警通报 (warning notice)."""

    reply_days: int = Field(5, ge=1, le=365)  # each unit replies within N days of the notice
    issuer: str = "集团市场经营部"


class Rules(_Strict):
    """Everything a user may tune without touching code."""

    tier: TierRules = TierRules()
    risk: RiskRules = RiskRules()
    merge: MergeRules = MergeRules()
    archive: ArchiveRules = ArchiveRules()
    kpi: KpiRules = KpiRules()
    notice: NoticeRules = NoticeRules()


def default_rules_text() -> str:
    """The documented default rules file, as shipped."""
    return resources.files("kam").joinpath("rules_default.toml").read_text(encoding="utf-8")


RULES_ENV = "KAM_RULES"


def user_rules_path() -> Path | None:
    """The rules file the Excel buttons use: $KAM_RULES, else ~/.kam/rules.toml if present."""
    named = os.environ.get(RULES_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    home = Path.home() / ".kam" / "rules.toml"
    return home if home.is_file() else None


def user_rules() -> Rules:
    """The rules the Excel buttons and functions use (user_rules_path(), else the defaults)."""
    return load_rules(user_rules_path())


def load_rules(path: Path | None = None) -> Rules:
    """The rules in `path`, or the defaults; a bad file raises RulesFileError naming the key."""
    if path is None:
        return Rules.model_validate(tomllib.loads(default_rules_text()))
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesFileError(f"找不到规则文件 {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(toml_problem(Path(path), exc)) from exc
    except UnicodeDecodeError as exc:
        raise RulesFileError(f"规则文件 {path} 不是 UTF-8 文本，请用 UTF-8 编码另存") from exc
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesFileError(validation_problems(Path(path), exc, Rules)) from exc
