"""The register workbook, regenerated whole with xlsxwriter (constant memory).

Branch values are data: every value is written with write_string / write_number /
write_datetime (never `write`), and the workbook refuses to turn strings into formulas,
numbers or links, so `=1+1` or `@SUM(A1)` stays text. Control characters are removed;
a text longer than Excel's cell limit is cut with a visible marker and reported.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kam.findings import column_letter
from kam.forms import RISK_LEVEL, TIER, UNMET_TIER, Form
from kam.register.columns import (
    CHANGES,
    CONFLICTS,
    NO_RISK,
    REG_ROSTER,
    REG_TABLES,
    REJECTED,
    RISK_LIST,
    SOURCES,
    SUBMISSIONS,
    SUMMARY_SHEET,
)
from kam.register.fingerprints import FINGERPRINTS, SPECS, Fingerprints, canon
from kam.register.sheet_rows import CELL_LIMIT, CUT_NOTE, RowWriter, Styles, clean_text, splice
from kam.rules import RiskRules

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
    "remove_timezone": True,
}
RISK_FILLS = {"高": "#FF9999", "中": "#FFC000", "低": "#FFFF99"}


@dataclass
class RegisterData:
    """Every sheet's rows, by field id of its register form."""

    roster: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # register form id -> rows
    risks: pd.DataFrame
    conflicts: pd.DataFrame
    refused: pd.DataFrame
    submissions: pd.DataFrame
    changes: pd.DataFrame
    sources: pd.DataFrame
    notes: list[str] = field(default_factory=list)  # cut texts, filled by the writer
    written: Fingerprints = field(default_factory=Fingerprints)  # filled by the writer
    as_of: dt.date | None = None  # the evaluation date of the risk rules
    risk_rules: RiskRules = field(default_factory=RiskRules)

    @classmethod
    def empty(cls) -> RegisterData:
        """The blank register (headers only)."""

        def blank(form: Form) -> pd.DataFrame:
            return pd.DataFrame(columns=[f.id for f in form.fields], dtype=object)

        return cls(
            roster=blank(REG_ROSTER),
            tables={f.id: blank(f) for f in REG_TABLES},
            risks=blank(RISK_LIST),
            conflicts=blank(CONFLICTS),
            refused=blank(REJECTED),
            submissions=blank(SUBMISSIONS),
            changes=blank(CHANGES),
            sources=blank(SOURCES),
        )


class _Cells:
    """Writes one typed value per cell; keeps the list of texts that had to be cut."""

    def __init__(self, wb: xlsxwriter.Workbook, notes: list[str]) -> None:
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.header = wb.add_format(
            {"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True}
        )
        self.notes = notes

    def put(self, ws: Worksheet, r: int, c: int, value: object) -> str:
        """Write one value as data; returns it as it will read back (see fingerprints.canon)."""
        if value is None or value is pd.NaT:
            return ""
        if isinstance(value, str):
            text = clean_text(value)
            if len(text) > CELL_LIMIT:
                note = CUT_NOTE.format(limit=CELL_LIMIT, n=len(text))
                text = text[: CELL_LIMIT - len(note)] + note
                self.notes.append(f"{ws.name}!{column_letter(c)}{r + 1}")
            if text:
                ws.write_string(r, c, text)
            return canon(text)
        if isinstance(value, bool | np.bool_):
            ws.write_boolean(r, c, bool(value))
            return canon(value)
        if isinstance(value, dt.datetime | dt.date | np.datetime64):
            stamp = pd.Timestamp(value)
            if pd.isna(stamp):
                return ""
            when = stamp.to_pydatetime().replace(tzinfo=None)
            fmt = self.date if when.time() == dt.time() else self.datetime
            ws.write_datetime(r, c, when, fmt)
            return canon(when)
        if isinstance(value, numbers.Real):
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                return ""
            ws.write_number(r, c, number)
            return canon(number)
        return self.put(ws, r, c, str(value))


def write_register(path: Path, data: RegisterData) -> list[str]:
    """Write every register sheet to `path`; returns the cells whose text was cut."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    wb.set_properties({"title": REG_ROSTER.sheet, "author": "KAM"})
    cells = _Cells(wb, data.notes)
    # xlsxwriter's own index for each date style: the spliced rows refer to them.
    styles = Styles(cells.date._get_xf_index(), cells.datetime._get_xf_index())
    rows = RowWriter(styles, Path(path).parent, data.notes)
    prints = data.written = Fingerprints()
    try:
        roster_ws = _table(wb, rows, cells, REG_ROSTER, data.roster, prints)
        _risk_highlight(wb, roster_ws, REG_ROSTER, len(data.roster))
        for form in REG_TABLES:
            frame = data.tables.get(form.id, pd.DataFrame())
            ws = _table(wb, rows, cells, form, frame, prints)
            _cell_highlights(wb, ws, form, len(frame), data)
        for form, frame in (
            (RISK_LIST, data.risks),
            (CONFLICTS, data.conflicts),
            (REJECTED, data.refused),
            (SUBMISSIONS, data.submissions),
            (CHANGES, data.changes),
        ):
            _table(wb, rows, cells, form, frame, prints)
        _summary(wb, cells, data.roster, data.risks)
        _table(wb, rows, cells, SOURCES, data.sources).hide()
        stored = pd.DataFrame(prints.to_rows(), columns=[f.id for f in FINGERPRINTS.fields])
        _table(wb, rows, cells, FINGERPRINTS, stored).very_hidden()
        wb.close()
        splice(Path(path), rows.sheets)
    finally:
        for sheet in rows.sheets:
            sheet.file.unlink(missing_ok=True)
    return data.notes


def write_blank_register(path: Path) -> Path:
    """The blank register (every sheet with its headers), e.g. for `kam template`."""
    write_register(path, RegisterData.empty())
    return path


def _table(
    wb: xlsxwriter.Workbook,
    rows: RowWriter,
    cells: _Cells,
    form: Form,
    frame: pd.DataFrame,
    prints: Fingerprints | None = None,
) -> Worksheet:
    ws = wb.add_worksheet(form.sheet)
    for c, f in enumerate(form.fields):
        ws.set_column(c, c, f.width)
        ws.write_string(0, c, f.header, cells.header)
    ids = [f.id for f in form.fields]
    frame = frame.reindex(columns=ids)
    spec = SPECS.get(form.sheet) if prints is not None else None
    sink = prints.sheet(form.sheet) if prints is not None and spec is not None else None
    track = (sink, spec, ids) if sink is not None and spec is not None else None
    rows.add(form.sheet, ws.index, frame, track)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), len(ids) - 1)
    return ws


def _risk_highlight(wb: xlsxwriter.Workbook, ws: Worksheet, form: Form, n: int) -> None:
    """Live highlights driven by the risk-level columns (a manual level wins)."""
    level = column_letter([f.id for f in form.fields].index("risk_level"))
    manual = column_letter([f.id for f in form.fields].index("manual_risk"))
    last = max(n, 1) + 1
    for text, colour in RISK_FILLS.items():
        fmt = wb.add_format({"bg_color": colour})
        rule = f'=IF(${manual}2<>"",${manual}2,${level}2)="{text}"'
        ws.conditional_format(
            1,
            0,
            last - 1,
            len(form.fields) - 1,
            {"type": "formula", "criteria": rule, "format": fmt},
        )


ALERT_TITLE = "紧急预警：以下客户出现破产征兆，须立即在全集团范围预警"
NO_ALERT = "紧急预警：本期无破产征兆客户"


def _alerts(wb: xlsxwriter.Workbook, ws: Worksheet, cells: _Cells, risks: pd.DataFrame) -> int:
    """The 紧急预警 block at the top of 汇总; returns the first row below it."""
    fired = risks[risks["rule"] == "bankruptcy"] if len(risks) else risks
    alarm = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000"})
    if fired is None or fired.empty:
        ws.write_string(0, 0, NO_ALERT, cells.header)
        return 2
    ws.write_string(0, 0, ALERT_TITLE, alarm)
    columns = [f for f in RISK_LIST.fields if f.id in ("uscc", "name", "unit", "detail")]
    for c, f in enumerate(columns):
        ws.write_string(1, c, f.header, cells.header)
    for r, values in enumerate(fired[[f.id for f in columns]].itertuples(index=False), start=2):
        for c, value in enumerate(values):
            cells.put(ws, r, c, value)
    return len(fired) + 3


def _cell_highlights(
    wb: xlsxwriter.Workbook, ws: Worksheet, form: Form, n: int, data: RegisterData
) -> None:
    """Live fills on the values that fire a rule: 逾期天数 by band, an overdue 响应时限."""
    ids = [f.id for f in form.fields]
    last = max(n, 1)

    def letter(fid: str) -> str:
        return column_letter(ids.index(fid))

    def paint(fid: str, level: str, rule: str) -> None:
        col = ids.index(fid)
        fmt = wb.add_format({"bg_color": RISK_FILLS[level], "bold": True})
        ws.conditional_format(
            1, col, last, col, {"type": "formula", "criteria": rule, "format": fmt}
        )

    if {"pay_status", "overdue_days"} <= set(ids):
        status, days = letter("pay_status"), letter("overdue_days")
        r = data.risk_rules
        overdue = f'${status}2="逾期"'
        paint("overdue_days", "高", f"=AND({overdue},${days}2>{r.overdue_high_gt})")
        paint("overdue_days", "中", f"=AND({overdue},${days}2>{r.overdue_medium_gt})")
        paint("overdue_days", "低", f"=AND({overdue},${days}2>0)")
    if {"closed", "deadline"} <= set(ids) and data.as_of is not None:
        closed, due = letter("closed"), letter("deadline")
        d = data.as_of
        paint(
            "deadline",
            "中",
            f'=AND(${closed}2<>"是",ISNUMBER(${due}2),${due}2<DATE({d.year},{d.month},{d.day}))',
        )


LEGEND = (
    ("高", "风险等级为高：整行红色"),
    ("中", "风险等级为中：整行橙色；逾期 31–90 天或响应时限已过的单元格同色"),
    ("低", "风险等级为低：整行黄色；逾期 1–30 天的单元格同色"),
)


def _legend(wb: xlsxwriter.Workbook, ws: Worksheet, cells: _Cells, row: int) -> None:
    """What the colours mean; the fills follow 人工风险等级 when HQ sets it."""
    ws.write_string(row, 0, "图例", cells.header)
    ws.write_string(row, 1, "说明（填写“人工风险等级”后按人工等级着色）", cells.header)
    for i, (level, text) in enumerate(LEGEND, start=1):
        ws.write_string(row + i, 0, level, wb.add_format({"bg_color": RISK_FILLS[level]}))
        ws.write_string(row + i, 1, text)


def _summary(
    wb: xlsxwriter.Workbook, cells: _Cells, roster: pd.DataFrame, risks: pd.DataFrame
) -> None:
    """紧急预警 first, then counts by tier x branch and by risk level, with charts."""
    ws = wb.add_worksheet(SUMMARY_SHEET)
    top = _alerts(wb, ws, cells, risks)
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
