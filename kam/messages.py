"""The catalogue of finding kinds: stable rule id, default severity, Chinese and English text.

Templates use str.format fields filled from a finding's params; `column` and `value` are
always available. Each message says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is; `error` rows are rejected on merge."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class RuleText:
    """A rule's default severity and its message templates."""

    severity: Severity
    zh: str
    en: str


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

CATALOG: dict[str, RuleText] = {
    "missing_sheet": RuleText(
        E,
        "缺少工作表“{sheet}”，请从最新模板复制该表后重新填报",
        "Sheet '{sheet}' is missing; copy it from the current template and fill it in",
    ),
    "missing_column": RuleText(
        E,
        "工作表“{sheet}”缺少列“{column}”，请按模板恢复该列",
        "Sheet '{sheet}' has no column '{column}'; restore it as in the template",
    ),
    "unknown_column": RuleText(
        W,
        "列“{column}”（{letter} 列）不在模板中，已忽略；如需保留请写入“备注”",
        "Column '{column}' ({letter}) is not in the template and was ignored",
    ),
    "template_version": RuleText(
        E,
        "模板版本“{value}”无法识别（当前为 {expected}），请使用最新模板重新填报",
        "Template version '{value}' is not supported (current {expected}); use the current "
        "template",
    ),
    "unreadable": RuleText(
        E,
        "无法读取文件：{reason}",
        "Cannot read the file: {reason_en}",
    ),
    "required": RuleText(
        E,
        "“{column}”为必填项{because}，请填写",
        "'{column}' is required{because_en}; please fill it in",
    ),
    "type": RuleText(
        E,
        "“{column}”应为{expected}，“{value}”无法识别，请改正",
        "'{column}' must be {expected_en}; '{value}' cannot be read",
    ),
    "enum": RuleText(
        E,
        "“{column}”只能填写：{choices}；“{value}”不在其中，请从下拉列表选择",
        "'{column}' must be one of {choices}; '{value}' is not",
    ),
    "uscc_format": RuleText(
        E,
        "统一社会信用代码“{value}”格式不正确：{reason}，请按营业执照核对",
        "USCC '{value}' is malformed: {reason_en}; check the business licence",
    ),
    "uscc_checksum": RuleText(
        E,
        "统一社会信用代码“{value}”校验不通过（有字符抄错），请对照营业执照逐位核对全部 18 位",
        "USCC '{value}' fails its check (a character is mistyped); compare all 18 characters "
        "with the business licence",
    ),
    "phone": RuleText(
        E,
        "电话号码“{value}”不正确，请填写 11 位手机号或带区号的座机号（如 010-12345678）",
        "Phone '{value}' is not a mainland mobile or a landline with area code",
    ),
    "email": RuleText(
        E,
        "邮箱“{value}”格式不正确，请核对",
        "E-mail '{value}' is malformed",
    ),
    "date_future": RuleText(
        E,
        "“{column}”为 {value}，晚于{bound_name}（{bound}），请核对",
        "'{column}' is {value}, after {bound_name_en} ({bound})",
    ),
    "date_order": RuleText(
        E,
        "“{column}”（{value}）早于“{other}”（{other_value}），请核对",
        "'{column}' ({value}) is before '{other}' ({other_value})",
    ),
    "amount_range": RuleText(
        E,
        "“{column}”为 {value}，应{bound_text}，请核对",
        "'{column}' is {value}; it must be {bound_text_en}",
    ),
    "duplicate_key": RuleText(
        E,
        "“{column}”“{value}”与第 {first_row} 行重复，请删除或合并重复行",
        "'{column}' '{value}' repeats row {first_row}",
    ),
    "unknown_customer": RuleText(
        E,
        "统一社会信用代码“{value}”不在本簿大客户名录中，请先在名录登记该客户或核对代码",
        "USCC '{value}' is not in this workbook's roster",
    ),
    "overdue_days": RuleText(
        E,
        "{detail}",
        "{detail_en}",
    ),
    "branch_mismatch": RuleText(
        E,
        "责任单位“{value}”与报送单位“{unit}”不一致；非集团级客户的责任单位应为本单位",
        "Responsible unit '{value}' differs from the submitting unit '{unit}'",
    ),
    "completeness": RuleText(
        W,
        "信息登记卡“{column}”未填写，请补充（档案完整率目标 ≥ 98%）",
        "Info card field '{column}' is empty (target completeness ≥ 98%)",
    ),
    "formula_in_data": RuleText(
        E,
        "单元格含公式或会被 Excel 当作公式的文本（“{value}”），请改为直接填写数值或文字",
        "The cell holds a formula or text Excel would run as one ('{value}'); type the value",
    ),
    "normalized": RuleText(
        INFO,
        "“{column}”已自动修正：“{value}” → “{fixed}”（{why}）",
        "'{column}' was fixed: '{value}' → '{fixed}' ({why_en})",
    ),
    "tier_unsupported": RuleText(
        W,
        "登记等级“{recorded}”高于计算等级“{computed}”，需认定依据：{reason}",
        "Recorded tier '{recorded}' is above the computed '{computed}'; evidence needed: "
        "{reason_en}",
    ),
    "tier_upgrade": RuleText(
        INFO,
        "建议升级：计算等级“{computed}”高于登记等级“{recorded}”（{reason}）{note}",
        "Upgrade suggested: computed '{computed}' is above recorded '{recorded}' ({reason_en})",
    ),
    "prefill_changed": RuleText(
        INFO,
        "已修改集团名录中的值：原为“{before}”，现为“{value}”",
        "Changed a value pre-filled from the group register: was '{before}', now '{value}'",
    ),
}

RULE_IDS: tuple[str, ...] = tuple(CATALOG)

VARIANTS: dict[str, RuleText] = {
    "card_missing": RuleText(
        W,
        "客户“{value}”没有信息登记卡，按全部应填字段为空计入档案完整率；"
        "请在“信息登记卡”中为其补填一行",
        "Customer '{value}' has no info card; it counts as a card with every expected field "
        "empty; add its row to the info cards",
    ),
}
"""Other texts of a rule (same id and severity), chosen by the finding's `variant` param."""


class _Blank(dict[str, object]):
    """format_map mapping that leaves unknown fields visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


def render(rule: str, params: dict[str, object], lang: str = "zh") -> str:
    """The finding message for this rule in `lang` ("zh" or "en")."""
    text = VARIANTS.get(str(params.get("variant")), CATALOG[rule])
    template = text.en if lang == "en" else text.zh
    return template.format_map(_Blank(params))
