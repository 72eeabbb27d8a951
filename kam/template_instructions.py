"""The 填报说明 sheet of the submission workbook: what to fill and how, printed one page wide.

Its lines come from kam.forms and the rules file (required and expected columns, dropdown
values, the 参考等级 rule); a pre-filled workbook's notes come first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xlsxwriter.worksheet import Worksheet

from kam import template_formulas as tf
from kam.forms import (
    ALL_CHOICES,
    CONTRACTS,
    FORMS,
    INFO,
    ROSTER,
    TEMPLATE_VERSION,
    TIER,
    UNMET_TIER,
)
from kam.rules import Rules

if TYPE_CHECKING:  # the template module owns the workbook's formats and imports this one
    from kam.template import _Styles as Styles

INSTRUCTION_WIDTH = 66  # characters: the 填报说明 column, printed one page wide


def _enum_uses() -> dict[str, list[str]]:
    """Choices name -> the "表·列" places that use it (for the instructions)."""
    uses: dict[str, list[str]] = {c.name: [] for c in ALL_CHOICES}
    for form in FORMS:
        for field in form.fields:
            if field.choices is not None:
                uses[field.choices.name].append(f"{form.sheet}·{field.header}")
    return uses


def instructions(rules: Rules, notes: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The lines of the 填报说明 sheet as (kind, text); kind is title, section or text.

    `notes` (a pre-filled workbook's) come first, under their own section.
    """
    p = rules.tier.default
    amount, signed = CONTRACTS["amount"].header, CONTRACTS["signed_on"].header
    group, branch, project = TIER.values
    lines: list[tuple[str, str]] = [
        ("title", f"分公司季度报送模板 填报说明（模板版本 {TEMPLATE_VERSION}）"),
        *((("section", "本文件已按集团大客户名录预填"),) if notes else ()),
        *(("text", note) for note in notes),
        ("section", "一、总体要求"),
        ("text", "1. 每个分公司每季度报送一份本工作簿；请勿删除、改名或调整工作表和表头。"),
        ("text", "2. 表头在第 1 行；红色表头为必填列，灰色列为自动计算列，请勿填写。"),
        ("text", "3. 鼠标停在表头上可看到该列说明；选中单元格会提示填写要求，下拉列表请直接选择。"),
        ("text", "4. 日期写作 2026-03-31；金额单位为万元；统一社会信用代码为 18 位，字母大写。"),
        ("section", "二、各工作表"),
    ]
    for form in FORMS:
        required = "、".join(f.header for f in form.fields if f.required) or "无"
        what = f"{form.help}。" if form.help else ""
        expected = "、".join(f.header for f in form.fields if f.expected)
        also = f"应填（计入档案完整率）：{expected}。" if expected else ""
        lines.append(("text", f"【{form.sheet}】{what}必填：{required}。{also}"))
    lines.append(("section", "三、下拉选项"))
    uses = _enum_uses()
    for choices in ALL_CHOICES:
        where = "、".join(uses[choices.name])
        lines.append(("text", f"{'／'.join(choices.values)}（用于：{where}）"))
    gt, ge_b, ge_p = (
        tf.number_text(x) for x in (p.group_amount_gt, p.branch_amount_ge, p.project_amount_ge)
    )
    strategic = ROSTER["strategic"].header
    ref = ROSTER["ref_tier"].header
    lines += [
        ("section", f"四、{ref}（自动计算）"),
        (
            "text",
            f"按{INFO['quarter'].header}的季末日往前 {p.window_years} 年（含首尾两日）内的"
            f"{signed}统计合同：{strategic}为“{tf.YES}”或至少 {p.group_min_count} 份"
            f"{amount} > {gt} 为{group}；否则至少 1 份 ≥ {ge_b} 为{branch}；"
            f"否则至少 1 份 ≥ {ge_p} 为{project}；否则为{UNMET_TIER}。",
        ),
        ("text", f"{ref}仅供参考，{ROSTER['tier'].header}仍按认定结果填写。"),
        ("section", "五、容错说明"),
        ("text", "系统会自动处理以下情况并给出提示，但请尽量按模板规范填写："),
        ("text", "表头多余空格、全角/半角括号不同、列顺序调整、表头上方有标题行（可合并单元格）；"),
        ("text", "多出的列会被忽略并提示一次；末尾空行、空列会被忽略；"),
        ("text", "日期写成文字（2024-03-01、2024/3/1、2024年3月1日），数字写成文字（如 12,000）；"),
        ("text", "统一社会信用代码小写、全角数字和字母、前后空格会被自动更正。"),
        ("text", "找不到工作表或必填列时，整个文件无法处理，请按提示补齐后重新报送。"),
        ("section", "六、模板版本"),
        (
            "text",
            f"本模板版本为 {TEMPLATE_VERSION}，写在“{INFO.sheet}”表的“{INFO['version'].header}”栏，"
            "请勿修改；主版本号不符的文件将被退回。",
        ),
    ]
    return lines


def write_instructions(ws: Worksheet, st: Styles, rules: Rules, notes: Sequence[str] = ()) -> None:
    ws.set_column(0, 0, INSTRUCTION_WIDTH, st.wrap)
    ws.set_tab_color("#C00000")
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)  # 66 characters: fits A4 portrait unscaled (LibreOffice too)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C填报说明  第 &P 页，共 &N 页")
    style = {"title": st.title, "section": st.section, "text": st.wrap}
    for r, (kind, text) in enumerate(instructions(rules, notes)):
        ws.write_string(r, 0, text, style[kind])
        if kind == "text":  # xlsxwriter cannot size wrapped rows; too short, lines overlap
            ws.set_row(r, 16 * _wrapped_lines(text, INSTRUCTION_WIDTH + 6))


def _wrapped_lines(text: str, width: int) -> int:
    """How many lines `text` takes in a column `width` characters wide (CJK counts 2)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, -(-used // width))
