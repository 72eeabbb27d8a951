"""The 考核 and 趋势 sheets (xlsxwriter): values, live miss marks and native charts.

Marks are conditional formats that compare each value with the 目标 row of the sheet, so
they stay right when HQ edits a target or a figure by hand. 风险敞口 is a plain table sheet
written by kam.register.writer like the others (its level fill is added here).
"""

from __future__ import annotations

from typing import Any, Protocol

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kam.findings import column_letter
from kam.insight.build import Insight
from kam.insight.exposure import EXPOSURE
from kam.insight.kpi import NO_DATA, SPECS, Measure, Spec
from kam.insight.trends import HISTORY, KPI_FIELDS, LEVEL_FIELDS, TIER_FIELDS, by_quarter
from kam.register.columns import KPI_SHEET, TREND_SHEET

MISS = {"bg_color": "#FF9999", "font_color": "#9C0006", "bold": True}
CHART_ROWS = 20
RATIO_TARGETS = [s for s in SPECS if s.kind == "ratio" and s.target]


class Cells(Protocol):
    header: Any

    def put(self, ws: Worksheet, r: int, c: int, value: object) -> str: ...


def _columns(spec: Spec) -> list[str]:
    """Sub-headers of a measure's columns: the value, then its parts."""
    if spec.kind in ("ratio", "flag") and spec.parts:
        return ["值", *spec.parts]
    if spec.kind == "amount" and spec.parts:
        return ["值", spec.parts[0]]
    return ["值"]


def _print_setup(ws: Worksheet, last_title_row: int) -> None:
    """A4 landscape, one page wide, the rows up to `last_title_row` on every page (as the
    register's other sheets, kam.register.sheet_style.print_setup)."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.repeat_rows(0, last_title_row)


def write_kpi_sheet(wb: xlsxwriter.Workbook, cells: Cells, insight: Insight | None) -> None:
    """考核: per branch, the 合计 row, a chart comparing branches, then per 责任人."""
    ws = wb.add_worksheet(KPI_SHEET)
    _print_setup(ws, 0)  # the title; the two tables below have headers of their own
    ws.set_column(0, 1, 16)
    if insight is None:
        ws.write_string(0, 0, "考核：名录中尚无报送季度", cells.header)
        return
    card = insight.card
    ws.write_string(
        0,
        0,
        f"考核：{card.quarter}（评价日期 {card.as_of.isoformat()}）。比率 = 分子 / 分母，"
        f"分母为 0 记“{NO_DATA}”；目标取自规则文件 [kpi]，未达标的单元格标红。",
    )
    fmt = _formats(wb)
    rows = [([b], ms) for b, ms in card.branches]
    rows.append((["合计（全集团）"], card.group))
    top = 2
    end = _table(wb, ws, cells, fmt, top, ["单位"], list(SPECS), rows, card.rules)
    _chart(wb, ws, top, len(card.branches))
    owner_top = end + CHART_ROWS + 3
    ws.write_string(owner_top - 1, 0, "按责任人（客户与维护类指标；报送类指标只按单位计）")
    specs = [s for s in SPECS if s.per_owner]
    _table(
        wb,
        ws,
        cells,
        fmt,
        owner_top,
        ["单位", "责任人"],
        specs,
        [([b, o], ms) for (b, o), ms in card.owners],
        card.rules,
    )


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    return {
        "pct": wb.add_format({"num_format": "0.0%"}),
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "group": wb.add_format(
            {"bold": True, "border": 1, "bg_color": "#BDD7EE", "align": "center"}
        ),
        "sub": wb.add_format({"border": 1, "bg_color": "#DDEBF7", "text_wrap": True}),
        "target": wb.add_format({"italic": True, "bg_color": "#F2F2F2", "num_format": "0.0%"}),
        "miss": wb.add_format(MISS),
    }


def _table(
    wb: xlsxwriter.Workbook,
    ws: Worksheet,
    cells: Cells,
    fmt: dict[str, Any],
    top: int,
    keys: list[str],
    specs: list[Spec],
    rows: list[tuple[list[str], dict[str, Measure]]],
    rules: Any,
) -> int:
    """Header (2 rows), 目标 row, data rows; returns the row after the table.

    The workbook streams rows (constant_memory), so every row is written whole, in order.
    """
    layout, col = [], len(keys)
    for spec in specs:
        layout.append((spec, col, _columns(spec)))
        col += len(layout[-1][2])
    for spec, c, subs in layout:  # row 1: the measure names
        if len(subs) > 1:
            ws.merge_range(top, c, top, c + len(subs) - 1, spec.header, fmt["group"])
        else:
            ws.write_string(top, c, spec.header, fmt["group"])
        ws.set_column(c, c + len(subs) - 1, 11)
    for c, k in enumerate(keys):  # row 2: keys and the parts of each measure
        ws.write_string(top + 1, c, k, fmt["group"])
    for _spec, c, subs in layout:
        for i, sub in enumerate(subs):
            ws.write_string(top + 1, c + i, sub, fmt["sub"])
    ws.write_string(top + 2, 0, "目标", fmt["target"])
    first, last = top + 3, top + 2 + len(rows)
    for spec, c, _subs in layout:  # row 3: targets, and the live marks that read them
        target = getattr(rules, spec.target) if spec.target else None
        target = "是" if spec.kind == "flag" else target
        if target is None:
            continue
        if isinstance(target, str):
            ws.write_string(top + 2, c, target, fmt["target"])
        else:
            ws.write_number(top + 2, c, target, fmt["target"])
        _mark(ws, fmt, spec, c, top + 2, first, last)
    for r, (names, ms) in enumerate(rows, start=first):
        for c, name in enumerate(names):
            cells.put(ws, r, c, name)
        for spec, c, _subs in layout:
            m = ms.get(spec.id)
            if m is not None:
                _measure(ws, cells, fmt, r, c, spec, m)
    return last + 1


def _measure(
    ws: Worksheet, cells: Cells, fmt: dict[str, Any], r: int, c: int, spec: Spec, m: Measure
) -> None:
    if isinstance(m.value, float) and spec.kind == "ratio":
        ws.write_number(r, c, m.value, fmt["pct"])
    elif isinstance(m.value, float):
        ws.write_number(r, c, m.value, fmt["money"])
    else:
        cells.put(ws, r, c, m.value)
    subs = _columns(spec)
    if len(subs) > 1:
        cells.put(ws, r, c + 1, m.numerator)
    if len(subs) > 2:
        cells.put(ws, r, c + 2, m.denominator)


def _mark(
    ws: Worksheet, fmt: dict[str, Any], spec: Spec, col: int, target_row: int, first: int, last: int
) -> None:
    """A live red mark on every value that misses the target in the 目标 row."""
    if last < first:
        return
    cell = f"{column_letter(col)}{first + 1}"
    goal = f"{column_letter(col)}${target_row + 1}"
    if spec.kind == "flag":
        rule = f'={cell}="否"'
    else:
        op = "<" if spec.at_least else ">"
        rule = f"=AND(ISNUMBER({cell}),ISNUMBER({goal}),{cell}{op}{goal})"
    ws.conditional_format(
        first, col, last, col, {"type": "formula", "criteria": rule, "format": fmt["miss"]}
    )


def _chart(wb: xlsxwriter.Workbook, ws: Worksheet, top: int, n: int) -> None:
    """Clustered columns: each branch's ratios side by side (合计 row left out)."""
    if n == 0:
        return
    chart = wb.add_chart({"type": "column"})
    first = top + 3
    col = 1
    for spec in SPECS:
        if spec in RATIO_TARGETS:
            chart.add_series(
                {
                    "name": spec.header,
                    "categories": [KPI_SHEET, first, 0, first + n - 1, 0],
                    "values": [KPI_SHEET, first, col, first + n - 1, col],
                }
            )
        col += len(_columns(spec))
    chart.set_title({"name": "各单位考核指标对比"})
    chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_size({"width": 960, "height": 360})
    ws.insert_chart(first + n + 2, 0, chart)


def write_exposure_fill(wb: xlsxwriter.Workbook, ws: Worksheet, n: int) -> None:
    """风险敞口 rows coloured by their level, like the register's main sheet; one page wide."""
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    from kam.register.sheet_style import RISK_FILLS

    level = column_letter([f.id for f in EXPOSURE.fields].index("risk_level"))
    for text, colour in RISK_FILLS.items():
        ws.conditional_format(
            1,
            0,
            max(n, 1),
            len(EXPOSURE.fields) - 1,
            {
                "type": "formula",
                "criteria": f'=${level}2="{text}"',
                "format": wb.add_format({"bg_color": colour}),
            },
        )


def write_trend_sheet(wb: xlsxwriter.Workbook, cells: Cells, insight: Insight | None) -> None:
    """趋势: one row per quarter (latest record of each), and line charts by quarter."""
    ws = wb.add_worksheet(TREND_SHEET)
    _print_setup(ws, 1)  # the title and the header row
    fields = [f for f in HISTORY.fields if f.id != "recorded_at"]
    table = by_quarter(insight.history) if insight is not None else None
    ws.write_string(
        0, 0, "趋势：每季度取最近一次合并记录的主要指标（历史记录见隐藏表 _kam_trends）"
    )
    for c, f in enumerate(fields):
        ws.write_string(1, c, f.header, cells.header)
        ws.set_column(c, c, 12)
    if table is None or table.empty:
        return
    pct = wb.add_format({"num_format": "0.0%"})
    ratio_ids = {s.id for s in SPECS if s.kind == "ratio"}
    for r, rec in enumerate(table.to_dict(orient="records"), start=2):
        for c, f in enumerate(fields):
            value = rec.get(f.id)
            if f.id in ratio_ids and isinstance(value, float) and value == value:
                ws.write_number(r, c, value, pct)
            else:
                cells.put(ws, r, c, value)
    n = len(table)
    ids = [f.id for f in fields]
    groups = (
        ("大客户数（按等级）", TIER_FIELDS, None),
        ("客户数（按风险等级）", LEVEL_FIELDS, None),
        (
            "考核指标（全集团）",
            [f for f in KPI_FIELDS if f.id in ratio_ids and f.id != "new_contract_amount_qoq"],
            "0%",
        ),
        (
            "本季度新签合同额（万元）",
            [f for f in KPI_FIELDS if f.id == "new_contract_amount"],
            None,
        ),
    )
    for i, (title, series, num_format) in enumerate(groups):
        chart = wb.add_chart({"type": "line"})
        for f in series:
            c = ids.index(f.id)
            chart.add_series(
                {
                    "name": [TREND_SHEET, 1, c],
                    "categories": [TREND_SHEET, 2, 0, 1 + n, 0],
                    "values": [TREND_SHEET, 2, c, 1 + n, c],
                    "marker": {"type": "circle"},
                }
            )
        chart.set_title({"name": title})
        chart.set_x_axis({"name": "报送季度"})
        if num_format:
            chart.set_y_axis({"num_format": num_format, "min": 0, "max": 1})
        ws.insert_chart(n + 4 + (i // 2) * 17, (i % 2) * 8, chart)
