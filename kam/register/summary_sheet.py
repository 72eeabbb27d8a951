"""The 汇总 sheet: urgent alerts, customers by tier and unit, by risk level, legend, charts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kam.forms import RISK_LEVEL, TIER, UNMET_TIER
from kam.insight.exposure import EXPOSURE, EXPOSURE_COLUMNS
from kam.register.columns import NO_RISK, RISK_LIST, SUMMARY_SHEET
from kam.register.sheet_rows import clean_text
from kam.register.sheet_style import RISK_FILLS, print_setup

if TYPE_CHECKING:
    from kam.insight.build import Insight
    from kam.register.writer import _Cells

SUMMARY_TEXT_COLS = 5  # titles and legends of 汇总 span A:F (the tables' width), never cut off


ALERT_TITLE = "紧急预警：以下客户出现破产征兆，须立即在全集团范围预警"


NO_ALERT = "紧急预警：本期无破产征兆客户"


def _alerts(
    wb: xlsxwriter.Workbook,
    ws: Worksheet,
    cells: _Cells,
    risks: pd.DataFrame,
    insight: Insight | None = None,
) -> int:
    """The 紧急预警 block at the top of 汇总, with each customer's group exposure (§9.2)."""
    fired = risks[risks["rule"] == "bankruptcy"] if len(risks) else risks
    alarm = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000"})
    if fired is None or fired.empty:
        ws.merge_range(0, 0, 0, SUMMARY_TEXT_COLS, NO_ALERT, cells.header)
        return 2
    ws.merge_range(0, 0, 0, SUMMARY_TEXT_COLS, ALERT_TITLE, alarm)
    columns = [f for f in RISK_LIST.fields if f.id in ("uscc", "name", "unit", "detail")]
    extra = [f for f in EXPOSURE.fields if f.id in EXPOSURE_COLUMNS] if insight else []
    for c, f in enumerate([*columns, *extra]):
        ws.write_string(1, c, f.header, cells.header)
    for r, values in enumerate(fired[[f.id for f in columns]].itertuples(index=False), start=2):
        for c, value in enumerate(values):
            cells.put(ws, r, c, value)
        found = insight.exposure.get(str(values[0])) if insight else None
        for c, f in enumerate(extra, start=len(columns)):
            cells.put(ws, r, c, found.cell(f.id) if found else None)
    if insight:
        due = insight.notices_due
        note = f"预警通报：运行 kam notice 为以上 {due} 个客户生成《预警通报》（Word）"
        ws.write_string(len(fired) + 2, 0, note)
        return len(fired) + 4
    return len(fired) + 3


LEGEND = (
    ("高", "风险等级为高：整行红色"),
    ("中", "风险等级为中：整行橙色；逾期 31–90 天或响应时限已过的单元格同色"),
    ("低", "风险等级为低：整行黄色；逾期 1–30 天的单元格同色"),
)


def _legend(wb: xlsxwriter.Workbook, ws: Worksheet, cells: _Cells, row: int) -> None:
    """What the colours mean; the fills follow 人工风险等级 when HQ sets it."""
    ws.write_string(row, 0, "图例", cells.header)
    head = "说明（填写“人工风险等级”后按人工等级着色）"
    ws.merge_range(row, 1, row, SUMMARY_TEXT_COLS, head, cells.header)
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for i, (level, text) in enumerate(LEGEND, start=1):
        ws.write_string(row + i, 0, level, wb.add_format({"bg_color": RISK_FILLS[level]}))
        ws.merge_range(row + i, 1, row + i, SUMMARY_TEXT_COLS, text, wrap)


def write_summary(
    wb: xlsxwriter.Workbook,
    cells: _Cells,
    roster: pd.DataFrame,
    risks: pd.DataFrame,
    insight: Insight | None = None,
) -> None:
    """紧急预警 first, then counts by tier x branch and by risk level, with charts."""
    ws = wb.add_worksheet(SUMMARY_SHEET)
    print_setup(ws, tall=1)  # the overview on one page: tables, legend and charts
    top = _alerts(wb, ws, cells, risks, insight)
    tiers = list(TIER.values)
    counts = _crosstab(roster, tiers)
    branches = list(counts.index)
    head = ["责任单位", *tiers, "合计"]
    ws.set_column(0, 0, 24)
    ws.set_column(1, len(head), 10)
    for c, h in enumerate(head):
        ws.write_string(top, c, h, cells.header)
    for r, branch in enumerate(branches, start=top + 1):
        ws.write_string(r, 0, clean_text(branch))
        for c, tier in enumerate(tiers, start=1):
            ws.write_number(r, c, int(counts.at[branch, tier]))
        ws.write_number(r, len(tiers) + 1, int(counts.loc[branch].sum()))
    total_row = top + len(branches) + 1
    ws.write_string(total_row, 0, "合计", cells.header)
    for c, tier in enumerate(tiers, start=1):
        ws.write_number(total_row, c, int(counts[tier].sum()))
    ws.write_number(total_row, len(tiers) + 1, int(counts.to_numpy().sum()))
    risk_top = total_row + 2
    levels = [*RISK_LEVEL.values, NO_RISK]
    risk = _risk_counts(roster, levels)
    ws.write_string(risk_top, 0, "风险等级", cells.header)
    ws.write_string(risk_top, 1, "客户数", cells.header)
    for i, level in enumerate(levels, start=1):
        ws.write_string(risk_top + i, 0, level)
        ws.write_number(risk_top + i, 1, risk[level])
    _legend(wb, ws, cells, risk_top + len(levels) + 2)
    if branches:
        _charts(wb, ws, tiers, top, len(branches), total_row)
        pie = wb.add_chart({"type": "pie"})
        pie.add_series(
            {
                "name": "风险等级分布",
                "categories": [SUMMARY_SHEET, risk_top + 1, 0, risk_top + len(levels), 0],
                "values": [SUMMARY_SHEET, risk_top + 1, 1, risk_top + len(levels), 1],
                "data_labels": {"value": True, "category": True},
                "points": [{"fill": {"color": RISK_FILLS.get(v, "#C6EFCE")}} for v in levels],
            }
        )
        pie.set_title({"name": "风险等级分布"})
        ws.insert_chart(top + 32, len(tiers) + 3, pie)


def _charts(
    wb: xlsxwriter.Workbook, ws: Worksheet, tiers: list[str], top: int, n: int, total_row: int
) -> None:
    sheet = SUMMARY_SHEET
    bar = wb.add_chart({"type": "column", "subtype": "stacked"})
    for c in range(1, len(tiers) + 1):
        bar.add_series(
            {
                "name": [sheet, top, c],
                "categories": [sheet, top + 1, 0, top + n, 0],
                "values": [sheet, top + 1, c, top + n, c],
            }
        )
    bar.set_title({"name": "各单位大客户数（按等级）"})
    bar.set_x_axis({"name": "责任单位"})
    bar.set_y_axis({"name": "客户数"})
    ws.insert_chart(top, len(tiers) + 3, bar)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series(
        {
            "name": "等级分布",
            "categories": [sheet, top, 1, top, len(tiers)],
            "values": [sheet, total_row, 1, total_row, len(tiers)],
            "data_labels": {"value": True, "category": True},
        }
    )
    pie.set_title({"name": "大客户等级分布"})
    ws.insert_chart(top + 16, len(tiers) + 3, pie)


def _crosstab(roster: pd.DataFrame, tiers: list[str]) -> pd.DataFrame:
    if roster.empty:
        return pd.DataFrame(columns=tiers, dtype=int)
    unit = roster["unit"].map(lambda v: v if isinstance(v, str) and v else "（未填）")
    tier = roster["tier"].where(roster["tier"].isin(tiers), UNMET_TIER)
    table = pd.crosstab(unit, tier)
    return table.reindex(columns=tiers, fill_value=0).sort_index()


def _risk_counts(roster: pd.DataFrame, levels: Iterable[str]) -> dict[str, int]:
    if roster.empty:
        return dict.fromkeys(levels, 0)
    manual = roster["manual_risk"].where(roster["manual_risk"].notna(), roster["risk_level"])
    values = manual.map(lambda v: v if isinstance(v, str) and v else NO_RISK)
    return {level: int((values == level).sum()) for level in levels}
