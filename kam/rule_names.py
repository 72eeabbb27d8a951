"""Chinese names of the rule ids, for the columns and reasons people read.

The ids (DOMAIN §4, §6) stay the contract: JSON and the id columns keep them; tables, the
校验结果 sheet, 风险清单 and 风险原因 show these names in Chinese mode.
"""

from __future__ import annotations

from types import MappingProxyType

RULE_NAMES = MappingProxyType(
    {
        # validation (DOMAIN §6)
        "missing_sheet": "缺少工作表",
        "missing_column": "缺少列",
        "unknown_column": "多余列",
        "template_version": "模板版本",
        "unreadable": "无法读取",
        "required": "必填项",
        "type": "类型不符",
        "enum": "选项不符",
        "uscc_format": "信用代码格式",
        "uscc_checksum": "信用代码校验",
        "phone": "电话号码",
        "email": "邮箱",
        "date_future": "日期超前",
        "date_order": "日期先后",
        "amount_range": "金额范围",
        "duplicate_key": "重复",
        "unknown_customer": "名录外客户",
        "overdue_days": "逾期天数",
        "branch_mismatch": "责任单位不符",
        "completeness": "档案不全",
        "formula_in_data": "含公式",
        "normalized": "已自动修正",
        "tier_unsupported": "需认定依据",
        "tier_upgrade": "建议升级",
        "prefill_changed": "改动预填值",  # DOMAIN §9.3
        # risk (DOMAIN §4)
        "bankruptcy": "破产征兆",
        "reported_risk": "上报风险",
        "overdue_payment": "逾期付款",
        "leadership_change": "决策层变更",
        "few_top_contacts": "高层接触不足",
        "no_contact": "长期未联系",
        "open_issue_overdue": "问题超期未闭环",
        "unauthorised_contact": "非责任单位接触",
    }
)


def rule_name(rule: str, lang: str = "zh") -> str:
    """The rule's Chinese name (its id in English mode, or for an id without a name)."""
    return rule if lang == "en" else RULE_NAMES.get(rule, rule)
