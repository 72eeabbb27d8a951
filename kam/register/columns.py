"""The sheets and columns of the HQ register (DOMAIN §5), built from the submission forms.

Provenance and HQ columns are Field constants defined once here and reused by every sheet;
the data sheets extend the submission forms of kam.forms, so no header is spelled twice.
"""

from __future__ import annotations

from kam.forms import (
    CARDS,
    CONTRACTS,
    MAINTENANCE,
    RECEPTION,
    RISK,
    RISK_LEVEL,
    ROSTER,
    Field,
    Form,
    Kind,
)

REGISTER_FILENAME = "集团大客户名录.xlsx"

# Provenance, written on every merged row.
SOURCE_UNIT = Field("source_unit", "来源单位", width=20)
SOURCE_FILE = Field("source_file", "来源文件", width=28)
QUARTER = Field("quarter", "报送季度", Kind.QUARTER, width=10)
UPDATED = Field("updated", "更新时间", Kind.DATE, width=18)

# Computed on every merge.
CALC_TIER = ROSTER["calc_tier"]
TIER_REASON = ROSTER["tier_reason"]
TIER_CHECK = Field("tier_check", "等级核对", width=12)
RISK_LEVEL_COL = Field("risk_level", "风险等级", choices=RISK_LEVEL, width=10)
RISK_REASON = Field("risk_reason", "风险原因", width=40)

# HQ's own columns: typed by hand in the register, carried over by every merge.
HQ_NOTE = Field("hq_note", "HQ备注", width=24)
MANUAL_RISK = Field("manual_risk", "人工风险等级", choices=RISK_LEVEL, width=12)
HQ_FIELDS: tuple[Field, ...] = (HQ_NOTE, MANUAL_RISK)

PROVENANCE: tuple[Field, ...] = (SOURCE_UNIT, SOURCE_FILE, QUARTER)
"""Trailing columns of every merged data sheet; 报送季度 lets a resubmission replace its rows."""

REG_ROSTER = ROSTER.extended(
    "reg_roster",
    "集团大客户名录",
    (
        CALC_TIER,
        TIER_REASON,
        TIER_CHECK,
        RISK_LEVEL_COL,
        RISK_REASON,
        SOURCE_UNIT,
        SOURCE_FILE,
        QUARTER,
        UPDATED,
        HQ_NOTE,
        MANUAL_RISK,
    ),
    help="每个客户（统一社会信用代码）一行",
)

REG_TABLES: tuple[Form, ...] = tuple(
    form.extended(f"reg_{form.id}", form.sheet, PROVENANCE)
    for form in (CONTRACTS, CARDS, RECEPTION, MAINTENANCE, RISK)
)
"""合同台账 … 风险分析报告: the merged rows with their provenance."""
REG_BY_SOURCE: dict[str, Form] = {
    "roster": REG_ROSTER,
    **{
        src.id: reg
        for src, reg in zip(
            (CONTRACTS, CARDS, RECEPTION, MAINTENANCE, RISK), REG_TABLES, strict=True
        )
    },
}
"""Submission form id -> the register sheet holding its merged rows."""

_KEY = ROSTER["uscc"]
_NAME = ROSTER["name"]
RULE = Field("rule", "规则", width=20)
MESSAGE = Field("message", "说明", width=60)
FILE = Field("file", "文件", width=28)
UNIT = Field("unit", "单位", width=20)

RISK_LIST = Form(
    "risk_list",
    "风险清单",
    (
        _KEY,
        _NAME,
        ROSTER["unit"],
        Field("rule_name", "风险规则", width=16),  # the rule's Chinese name; 规则 keeps the id
        RULE,
        RISK_LEVEL_COL,
        Field("detail", "详情", width=60),
    ),
    help="每个（客户，触发规则）一行，按风险等级排序",
)

ADOPTED = Field("adopted", "是否采用", width=10)
CONFLICTS = ROSTER.extended(
    "conflicts",
    "归属冲突",
    (SOURCE_UNIT, SOURCE_FILE, QUARTER, ADOPTED, MESSAGE),
    help="同一客户被多个单位报送时的全部认领",
)

ROW = Field("row", "行", Kind.INTEGER, width=6)
SHEET = Field("sheet", "工作表", width=14)
ORIGINAL = Field("original", "原始值", width=80)
REJECTED = Form(
    "rejected",
    "拒收记录",
    (FILE, UNIT, QUARTER, SHEET, ROW, _KEY, RULE, MESSAGE, ORIGINAL),
    help="被拒收的行或文件：原因与原始值",
)

STATUS = Field("status", "状态", width=10)
ROWS_IN = Field("rows_in", "读入行数", Kind.INTEGER, width=10)
MERGED = Field("merged", "合并", Kind.INTEGER, width=8)
REJECTED_N = Field("rejected", "拒收", Kind.INTEGER, width=8)
DUPLICATE = Field("duplicate", "重复", Kind.INTEGER, width=8)
MISSING = Field("missing_sheets", "缺少工作表", width=24)
SHEETS_REFUSED = Field("rejected_sheets", "整表拒收", width=30)
REASON = Field("reason", "说明", width=50)
SHA = Field("sha256", "内容哈希", width=20)
MERGED_AT = Field("merged_at", "合并时间", Kind.DATE, width=18)
SUBMITTED_ON = Field("submitted_on", "报送日期", Kind.DATE, width=12)  # which file wins; 按时报送
SUBMISSIONS = Form(
    "submissions",
    "报送情况",
    (
        UNIT,
        FILE,
        QUARTER,
        STATUS,
        ROWS_IN,
        MERGED,
        REJECTED_N,
        DUPLICATE,
        MISSING,
        SHEETS_REFUSED,
        REASON,
    ),
    help="每个单位每季度一行；未报送的单位状态为“未报送”",
)
SAVED_AT = Field("saved_at", "工作簿保存时间", Kind.DATE, width=18)
MODIFIED_AT = Field("modified_at", "文件修改时间", Kind.DATE, width=18)
SOURCES = Form(
    "sources",
    "_kam_sources",
    (*SUBMISSIONS.fields, SHA, MERGED_AT, SUBMITTED_ON, SAVED_AT, MODIFIED_AT),
    help="隐藏表：已合并文件的内容哈希（用于重复合并时判定“未变化”）",
)

CHANGE = Field("change", "变更类型", width=12)
BEFORE = Field("before", "原值", width=16)
AFTER = Field("after", "新值", width=16)
CHANGES = Form(
    "changes",
    "季度变更",
    (_KEY, _NAME, CHANGE, BEFORE, AFTER, SOURCE_UNIT),
    help="与上一版名录相比：新增、移除的客户，计算等级和风险等级的变化",
)

SUMMARY_SHEET = "汇总"
KPI_SHEET, EXPOSURE_SHEET, TREND_SHEET = "考核", "风险敞口", "趋势"  # DOMAIN §9
NO_RISK = "无"

REGISTER_SHEETS: tuple[str, ...] = (
    REG_ROSTER.sheet,
    *(f.sheet for f in REG_TABLES),
    RISK_LIST.sheet,
    CONFLICTS.sheet,
    REJECTED.sheet,
    SUBMISSIONS.sheet,
    CHANGES.sheet,
    SUMMARY_SHEET,
    KPI_SHEET,
    EXPOSURE_SHEET,
    TREND_SHEET,
)
"""Visible sheets in tab order (the hidden _kam_sources sheet comes last)."""
