"""Native Excel formulas and data-validation specs of the submission template (from kam.forms).

Everything here is text for xlsxwriter: cell references are derived from the positions of
fields in their forms, never typed, so reordering kam.forms moves the formulas with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kam.findings import column_letter
from kam.forms import CONTRACTS, INFO, ROSTER, TIER, UNMET_TIER, YES_NO, Field, Form, Kind
from kam.rules import DefaultTierProfile

YES = YES_NO.values[0]
"""The 是 of a 是/否 column (战略合作协议 = 是 makes a customer 集团级)."""

AS_OF_NAME = "kam_as_of"
"""Defined name: the last day of the quarter written in 报送信息 (the tier as-of date)."""
WINDOW_START_NAME = "kam_window_start"
"""Defined name: the first day of the tier window (as-of minus window_years, EDATE)."""

ROW = "{row}"
"""Placeholder for the row number in a formula built once and reused on every row."""

DATE_MIN = dt.date(1990, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class Rows:
    """Where one table sheet's header and data rows are (0-based, inclusive)."""

    header: int
    last: int

    @property
    def first(self) -> int:
        return self.header + 1


def sheet_ref(sheet: str) -> str:
    """A sheet name quoted for use in a formula (always quoted: the names are Chinese)."""
    return "'" + sheet.replace("'", "''") + "'"


def letter(form: Form, field_id: str) -> str:
    """The column letter of a field in a table form, from its position."""
    return column_letter(form.fields.index(form[field_id]))


def info_row(field_id: str) -> int:
    """The 1-based row of an INFO label (labels start in A1, one per row)."""
    return INFO.fields.index(INFO[field_id]) + 1


def info_value_cell(field_id: str) -> str:
    """The absolute reference of an INFO value cell (column B), sheet included."""
    return f"{sheet_ref(INFO.sheet)}!$B${info_row(field_id)}"


def number_text(x: float) -> str:
    """A threshold as formula text: 20000.0 -> 20000, 20000.01 -> 20000.01."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def as_of_formula() -> str:
    """Last day of the quarter `YYYYQn` in 报送信息: day 0 of the month after the quarter.

    CHOOSE (instead of n*3+1) turns a quarter digit outside 1..4 into an error, which the
    tier formula shows as an empty cell rather than a wrong date.
    """
    q = f"TRIM({info_value_cell('quarter')})"
    return f"=DATE(VALUE(LEFT({q},4)),CHOOSE(VALUE(RIGHT({q},1)),4,7,10,13),0)"


def window_start_formula(profile: DefaultTierProfile) -> str:
    """EDATE keeps month and day and clamps 29 Feb to 28 Feb, as DOMAIN §3 asks."""
    return f"=EDATE({AS_OF_NAME},{-12 * profile.window_years})"


CONTRACT_RANGE_NAMES = {
    "uscc": "kam_contract_keys",
    "amount": "kam_contract_amounts",
    "signed_on": "kam_contract_dates",
}
"""Defined names of the 合同台账 columns the tier formula counts (short, readable formulas)."""


def contract_range_formulas(contract_rows: Rows) -> dict[str, str]:
    """Defined name -> bounded range of its 合同台账 column (data rows only, not whole columns,
    so recalculating thousands of roster rows stays fast)."""
    first, last = contract_rows.first + 1, contract_rows.last + 1
    out = {}
    for field_id, name in CONTRACT_RANGE_NAMES.items():
        c = letter(CONTRACTS, field_id)
        out[name] = f"={sheet_ref(CONTRACTS.sheet)}!${c}${first}:${c}${last}"
    return out


def ref_tier_formula(p: DefaultTierProfile) -> str:
    """The default tier profile (DOMAIN §3) of one roster row, as a formula.

    Built once with the ROW placeholder (see for_row): one formula per row is slow to build.
    Why these choices:
    - COUNTIFS with the key as `"*"&key`: a bare 18-digit USCC criterion is read as a number
      by Excel, which compares only 15 significant digits and would mix up two all-digit
      codes that share their first 15 digits; the wildcard forces a text comparison
      (case-insensitive, like the reader's upper-casing).
    - the window end is `< as_of + 1` so a signing date carrying a time on the last day still
      counts (both ends inclusive by calendar day).
    - an empty key gives "": without a key the customer has no contracts to count.
    - an unreadable 报送季度 makes the dates an error, shown as "" by IFERROR.
    """
    key = f"TRIM(${letter(ROSTER, 'uscc')}{ROW})"
    strategic = f"TRIM(${letter(ROSTER, 'strategic')}{ROW})"
    keys, amounts, dates = CONTRACT_RANGE_NAMES.values()

    def count(criterion: str) -> str:
        return (
            f'COUNTIFS({keys},"*"&{key},{amounts},"{criterion}",'
            f'{dates},">="&{WINDOW_START_NAME},{dates},"<"&({AS_OF_NAME}+1))'
        )

    group, branch, project = TIER.values
    by_contracts = (
        f'IF({count(">" + number_text(p.group_amount_gt))}>={p.group_min_count},"{group}",'
        f'IF({count(">=" + number_text(p.branch_amount_ge))}>=1,"{branch}",'
        f'IF({count(">=" + number_text(p.project_amount_ge))}>=1,"{project}","{UNMET_TIER}")))'
    )
    return f'=IF({key}="","",IF({strategic}="{YES}","{group}",IFERROR({by_contracts},"")))'


def for_row(formula: str, row: int) -> str:
    """A formula built with the ROW placeholder, for the 0-based sheet row `row`."""
    return formula.replace(ROW, str(row + 1))


def _limits(field: Field) -> tuple[str, str]:
    """(criteria, phrase) of a number field's lower bound."""
    minimum = 0 if field.minimum is None else field.minimum
    if field.exclusive_minimum:
        return ">", f"大于 {number_text(minimum)}"
    return ">=", f"大于或等于 {number_text(minimum)}"


def _spec(field: Field) -> tuple[dict[str, Any], str, str] | None:
    """(xlsxwriter validation keys, default input hint, error text) for a field, if any."""
    name = f"“{field.header}”"
    if field.kind is Kind.ENUM and field.choices is not None:
        values = "／".join(field.choices.values)
        return (
            {"validate": "list", "source": f"={field.choices.name}"},
            f"请从下拉列表中选择：{values}",
            f"{name}只能填写：{values}。请从下拉列表中选择。",
        )
    if field.kind is Kind.DATE:
        span = f"{DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d}"
        return (
            {"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX},
            "请输入日期，如 2026-03-31",
            f"{name}应为 {span} 之间的日期，如 2026-03-31。请重新输入。",
        )
    if field.kind is Kind.NUMBER:
        criteria, phrase = _limits(field)
        return (
            {"validate": "decimal", "criteria": criteria, "value": field.minimum or 0},
            f"请输入数字，{phrase}",
            f"{name}应为数字，且{phrase}。请重新输入。",
        )
    if field.kind is Kind.INTEGER:
        minimum = int(field.minimum or 0)
        return (
            {"validate": "integer", "criteria": ">=", "value": minimum},
            f"请输入大于或等于 {minimum} 的整数",
            f"{name}应为大于或等于 {minimum} 的整数。请重新输入。",
        )
    if field.kind is Kind.USCC:
        return (
            {"validate": "length", "criteria": "==", "value": 18},
            "请输入 18 位统一社会信用代码",
            f"{name}应为 18 位（数字和大写字母），请按营业执照核对。",
        )
    if field.kind is Kind.TEXT and (field.min_len or field.max_len):
        low, high = field.min_len or 1, field.max_len or 32767
        return (
            {"validate": "length", "criteria": "between", "minimum": low, "maximum": high},
            f"请输入 {low} 至 {high} 个字",
            f"{name}应为 {low} 至 {high} 个字。请重新输入。",
        )
    return None


def quarter_validation(cell: str) -> dict[str, Any]:
    """A custom rule for 报送季度 at `cell` (e.g. B2): four digits, Q, one digit 1-4."""
    rule = (
        f"=AND(LEN(TRIM({cell}))=6,ISNUMBER(VALUE(LEFT(TRIM({cell}),4))),"
        f'MID(TRIM({cell}),5,1)="Q",ISNUMBER(FIND(RIGHT(TRIM({cell}),1),"1234")))'
    )
    return {"validate": "custom", "value": rule}


def validation(field: Field, cell: str = "") -> dict[str, Any] | None:
    """The complete xlsxwriter data_validation options of a field, or None when it has none.

    Every rule shows a Chinese input prompt (the field's help, else a generated hint) and a
    Chinese stop message; `cell` is the top-left cell, needed by custom (formula) rules.
    """
    if field.kind is Kind.QUARTER:
        spec = (
            quarter_validation(cell),
            "格式如 2026Q3",
            f"“{field.header}”应写作年份加季度，如 2026Q3。请重新输入。",
        )
    else:
        spec = _spec(field)
    if spec is None:
        return None
    options, hint, error = spec
    if field.kind is Kind.DATE and field.help:
        hint = f"{hint}，{field.help}"  # the date hint says the format; the help says the bound
    elif field.help:
        hint = field.help
    prompt = ("必填。" if field.required else "") + hint
    return {
        **options,
        "ignore_blank": True,
        "show_input": True,
        "input_title": field.header[:32],  # Excel limits: title 32, messages 255 characters
        "input_message": prompt[:255],
        "show_error": True,
        "error_type": "stop",
        "error_title": "输入有误",
        "error_message": error[:255],
    }
