"""The 预警通报 (DOMAIN §9.4): one Word document per customer under a bankruptcy warning.

Laid out as a Chinese group notice (red masthead, title, addressees, numbered sections,
issuer and date bottom right). Every figure comes from the register: the 风险分析报告 rows
of the customer, and its exposure per unit (kam.insight.exposure) with the 合同台账 rows cited.
An existing notice of the same name (perhaps edited since) is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from kam.errors import NoticeWriteError
from kam.fs import cause_zh
from kam.insight.build import Insight
from kam.insight.exposure import Exposure, row_ranges
from kam.insight.facts import dates, text
from kam.risk_rules import BANKRUPTCY

RED = RGBColor(0xC0, 0x00, 0x00)
BODY_FONT, TITLE_FONT = "仿宋", "黑体"
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
EXPOSURE_HEAD = (
    "单位",
    "合同数",
    "近5年合同额（万元）",
    "应收余额（万元）",
    "逾期应收（万元）",
    "最长逾期天数",
)
REPORT_HEAD = ("报告单位", "风险类型", "风险等级", "发现日期", "风险描述", "是否已上报")


def notice_name(customer: str, day: dt.date) -> str:
    """预警通报_<客户名称>_<YYYYMMDD>.docx (characters a file name cannot hold removed)."""
    return f"预警通报_{UNSAFE.sub('', customer).strip() or '客户'}_{day:%Y%m%d}.docx"


def write_notices(insight: Insight, folder: Path, day: dt.date) -> list[Path]:
    """One notice per bankruptcy customer into `folder`; returns the files written."""
    written: list[Path] = []
    keys = insight.facts.bankrupt()
    if not keys:
        return written
    path = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key in keys:
            doc = notice_document(insight, key, day)
            path = _free_name(folder / notice_name(_customer(insight, key)["name"], day))
            doc.save(str(path))
            written.append(path)
    except OSError as exc:
        raise NoticeWriteError(
            f"无法写出预警通报 {path}（{cause_zh(exc, '')}）；请确认输出文件夹可写后重试"
        ) from exc
    return written


def _free_name(path: Path) -> Path:
    """The path, or the first '（2）', '（3）' … variant not taken yet."""
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}（{n}）{path.suffix}")
        n += 1
    return candidate


def _customer(insight: Insight, key: str) -> dict[str, str]:
    view = insight.facts.view
    rows = view[text(view["uscc"]) == key]
    first = rows.iloc[0] if len(rows) else pd.Series(dtype=object)

    def get(fid: str) -> str:
        v = first.get(fid)
        return "" if v is None or v != v else str(v).strip()

    return {f: get(f) for f in ("name", "tier", "unit", "owner")} | {"uscc": key}


def notice_document(insight: Insight, key: str, day: dt.date) -> Document:
    """The notice of one customer as a python-docx Document."""
    f = insight.facts
    rules = f.rules.notice
    c = _customer(insight, key)
    exp = insight.exposure.get(key) or Exposure([], 0, 0.0, 0.0, 0.0, 0, [], {})
    reports = _reports(insight, key)
    reply_by = day + dt.timedelta(days=rules.reply_days)
    doc = Document()
    _fonts(doc)
    _masthead(doc, rules.issuer, f"大客户风险预警通报（{f.quarter}）")
    _para(
        doc,
        f"关于{c['name']}出现破产征兆的紧急预警通报",
        size=18,
        bold=True,
        font=TITLE_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _para(doc, "集团各单位：")
    signs = [r for r in reports if r["type"] == BANKRUPTCY]
    first_found = min((r["found_on"] for r in signs if r["found_on"]), default="")
    who = "、".join(dict.fromkeys(r["unit"] for r in reports if r["unit"])) or "有关单位"
    _para(
        doc,
        f"{who}在{f.quarter}季度风险分析报告中报告，{c['name']}（统一社会信用代码 "
        f"{key}，{c['tier'] or '等级未填'}，责任单位 {c['unit'] or '未填'}）"
        f"{'自 ' + first_found + ' 起' if first_found else ''}出现破产征兆。该客户与集团 "
        f"{len(exp.units)} 个单位有合同往来，应收余额合计 {exp.receivable:,.2f} 万元，"
        f"其中逾期 {exp.overdue_receivable:,.2f} 万元。根据《大客户管理实施细则》，"
        "现予全集团紧急预警，请各单位立即落实以下要求。",
        indent=True,
    )
    _heading(doc, "一、风险报告情况")
    _table(
        doc,
        REPORT_HEAD,
        [
            [r["unit"], r["type"], r["level"], r["found_on"], r["description"], r["reported"]]
            for r in reports
        ],
    )
    _heading(doc, "二、集团风险敞口（按单位）")
    rows = [
        [
            u,
            str(v["contracts"]),
            _money(v["amount_5y"]),
            _money(v["receivable"]),
            _money(v["overdue_receivable"]),
            str(v["max_overdue_days"]),
        ]
        for u, v in exp.per_unit.items()
    ]
    rows.append(
        [
            "合计",
            str(exp.contracts),
            _money(exp.amount_5y),
            _money(exp.receivable),
            _money(exp.overdue_receivable),
            str(exp.max_overdue_days),
        ]
    )
    _table(doc, EXPOSURE_HEAD, rows)
    cited = row_ranges(exp.rows)
    _para(
        doc,
        f"数据来源：集团大客户名录“合同台账”第 {cited or '—'} 行；近5年合同额按 "
        f"{f.window_from.isoformat()} 至 {f.as_of.isoformat()} 签订的合同计。",
        size=10,
    )
    _heading(doc, "三、各单位已采取的应对措施")
    measures = [r for r in reports if r["measures"]]
    for r in measures:
        _para(doc, f"{r['unit']}（{r['found_on'] or '日期未填'}）：{r['measures']}", indent=True)
    if not measures:
        _para(doc, "报告单位未填报应对措施。", indent=True)
    _heading(doc, "四、工作要求")
    units = list(
        dict.fromkeys(
            [
                *exp.units,
                *(r["unit"] for r in reports if r["unit"]),
                *([c["unit"]] if c["unit"] else []),
            ]
        )
    )
    for i, unit in enumerate(units, start=1):
        v = exp.per_unit.get(unit)
        money = (
            f"（在册合同 {v['contracts']} 份，应收余额 {_money(v['receivable'])} 万元，"
            f"其中逾期 {_money(v['overdue_receivable'])} 万元）"
            if v
            else ""
        )
        _para(
            doc,
            f"{i}. {unit}{money}：立即核查与该客户的在履合同、应收账款和投标事项，"
            "暂停新增业务承接与授信，落实催收和财产保全措施，"
            f"于 {_cn(reply_by)} 前将处置情况书面报{rules.issuer}。",
            indent=True,
        )
    _para(
        doc,
        f"{len(units) + 1}. 其他单位如与该客户有业务接触，请于同日前报告{rules.issuer}。",
        indent=True,
    )
    _para(doc, "")
    _para(doc, rules.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, _cn(day), align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def _reports(insight: Insight, key: str) -> list[dict[str, str]]:
    """The customer's 风险分析报告 rows (the same report sent in two quarters once), by date."""
    risk = insight.facts.tables["risk"]
    mine = risk[text(risk["uscc"]) == key].copy()
    mine["_day"] = dates(mine["found_on"])
    mine = mine.sort_values("_day", kind="stable").drop_duplicates(
        ["source_unit", "risk_type", "found_on", "description"], keep="last"
    )
    return [
        {
            "unit": _s(r.get("source_unit")),
            "type": _s(r.get("risk_type")),
            "level": _s(r.get("level")),
            "found_on": r["_day"].date().isoformat() if pd.notna(r["_day"]) else "",
            "description": _s(r.get("description")),
            "measures": _s(r.get("measures")),
            "reported": _s(r.get("reported")),
        }
        for _, r in mine.iterrows()
    ]


def _cn(day: dt.date) -> str:
    """2026年10月5日 (strftime's no-padding flags are not portable to Windows)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _s(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _fonts(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)


def _para(
    doc: Document,
    content: str,
    *,
    size: float | None = None,
    bold: bool = False,
    font: str | None = None,
    align: int | None = None,
    indent: bool = False,
    color: RGBColor | None = None,
) -> Paragraph:
    p = doc.add_paragraph()
    run = p.add_run(content)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    if font:
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(28)
    return p


def _heading(doc: Document, content: str) -> None:
    _para(doc, content, bold=True, font=TITLE_FONT, size=15)


def _masthead(doc: Document, issuer: str, number: str) -> None:
    """Red issuer line and a red rule under the document number (the 红头)."""
    _para(
        doc,
        f"{issuer}",
        size=26,
        bold=True,
        color=RED,
        font=TITLE_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    p = _para(doc, number, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "18"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    p._p.get_or_add_pPr().append(borders)


def _table(doc: Document, head: tuple[str, ...], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, h in zip(table.rows[0].cells, head, strict=True):
        cell.text = h
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(10.5)
    for values in rows:
        cells = table.add_row().cells
        for cell, v in zip(cells, values, strict=True):
            cell.text = v
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(10.5)
