"""The branch submission workbook (分公司季度报送模板): blank or filled, written with xlsxwriter.

Everything is driven by kam.forms: sheet names, headers, widths, enums and validation come
from the Form/Field objects, and the 参考等级 formula from kam.template_formulas.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from kam import template_formulas as tf
from kam.errors import UsageError
from kam.findings import column_letter
from kam.forms import (
    ALL_CHOICES,
    INFO,
    ROSTER,
    TABLE_FORMS,
    TEMPLATE_VERSION,
    Form,
    Kind,
)
from kam.fs import os_cause, private_dir, set_mode_like
from kam.prefill_record import HEADERS as PREFILL_HEADERS
from kam.prefill_record import PREFILL_SHEET, PrefillRecord
from kam.register.sheet_rows import SheetRows, splice
from kam.rules import Rules, load_rules
from kam.template_instructions import write_instructions
from kam.template_rows import RowStyles, table_rows, text_rows

TEMPLATE_FILENAME = "分公司季度报送模板.xlsx"
INSTRUCTIONS_SHEET = "填报说明"
LISTS_SHEET = "_lists"
"""The hidden sheet holding every dropdown list (one column per kam.forms.Choices)."""
DATA_ROWS = 5000
"""Data rows under each header that get validation (and, on the roster, the tier formula)."""
CREATED = dt.datetime(2026, 1, 1)
"""Fixed document date: the same inputs always give the same bytes (reproducible template)."""
COMPUTED_NOTE = "自动计算，勿填"
PRINT_ROWS = 20
"""Empty rows a blank table prints under its header (a filled one prints its rows)."""

# Text format keeps leading zeros, 18-digit codes and phone numbers exactly as typed.
_TEXT_KINDS = frozenset({Kind.TEXT, Kind.USCC, Kind.PHONE, Kind.EMAIL, Kind.QUARTER})
_WORKBOOK_OPTIONS = {
    # Branch values are data: a string starting with "=" must stay a string (DOMAIN §5).
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
    "remove_timezone": True,
    "in_memory": True,  # a few MB at most; temporary files cost more than they save here
}


@dataclass(frozen=True)
class Layout:
    """How a submission workbook is laid out (the template itself always uses the defaults)."""

    title_rows: int = 0  # rows above each table header, as in edited branch files (samples)
    data_rows: int = DATA_ROWS  # rows that get validation and formulas under each header
    spliced: bool = False  # rows as XML spliced into the saved file (kam.template_rows): fast

    def rows(self, filled: int) -> tf.Rows:
        """Header and last data row of a table sheet holding `filled` rows."""
        return tf.Rows(self.title_rows, self.title_rows + max(self.data_rows, filled))


class _RosterSheet(Worksheet):
    """xlsxwriter's worksheet without its per-formula scan for newer Excel functions.

    xlsxwriter runs some thirty regex substitutions over every formula to prefix functions
    newer than Excel 2010; on 5,000 tier formulas that was 90% of writing a workbook (3 s).
    The tier formula uses none of them (tests.test_template checks xlsxwriter would leave it
    unchanged), so this sheet only strips the leading "=" as xlsxwriter does.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        return formula.removeprefix("=")


class _Styles:
    """The cell formats of one workbook (xlsxwriter formats belong to a workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self._wb = wb
        self._quoted: Format | None = None
        head = {"bold": True, "border": 1, "align": "center", "valign": "vcenter"}
        self.header = wb.add_format({**head, "bg_color": "#DDEBF7", "text_wrap": True})
        self.required = wb.add_format({**head, "bg_color": "#DDEBF7", "font_color": "#C00000"})
        self.computed_header = wb.add_format({**head, "bg_color": "#BFBFBF", "italic": True})
        self.computed = wb.add_format({"bg_color": "#EDEDED", "font_color": "#404040"})
        self.text = wb.add_format({"num_format": "@"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.integer = wb.add_format({"num_format": "0"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.section = wb.add_format({"bold": True, "font_size": 12, "bg_color": "#DDEBF7"})
        self.hint = wb.add_format({"italic": True, "font_color": "#7F7F7F"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    def rows(self, form: Form) -> RowStyles:
        """The xf indexes kam.template_rows gives a form's cells (as _write_table would)."""
        fmts = {f.id: self.computed if f.computed else self.column(f.kind) for f in form.fields}
        return RowStyles(
            {fid: None if fmt is None else fmt._get_xf_index() for fid, fmt in fmts.items()},
            self.date._get_xf_index(),
            self.datetime._get_xf_index(),
            self.quoted()._get_xf_index(),
        )

    def quoted(self) -> Format:
        """Excel's quote prefix, made on first use: the blank template has no such cell."""
        if self._quoted is None:
            self._quoted = self._wb.add_format({"quote_prefix": True})
        return self._quoted

    def column(self, kind: Kind) -> Format | None:
        """The format of a data column of this kind (applies to cells users type later too)."""
        if kind in _TEXT_KINDS:
            return self.text
        if kind is Kind.DATE:
            return self.date
        if kind is Kind.INTEGER:
            return self.integer
        return None


def write_template(out_dir: Path, rules: Rules | None = None, force: bool = False) -> list[Path]:
    """Writes the blank template into out_dir and returns the paths; an existing file is kept
    and the template goes to the first free `name(2).xlsx` name unless `force`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / TEMPLATE_FILENAME
    return [write_submission(target if force else free_name(target), rules=rules)]


def free_name(path: Path, taken: Sequence[Path] = ()) -> Path:
    """`path` when no file has that name (nor is in `taken`), else `stem(2).suffix`,
    `stem(3).suffix`, ... (the way Windows Explorer names copies, so users recognise it)."""
    n = 1
    candidate = path
    while candidate.exists() or candidate in taken:
        n += 1
        candidate = path.with_name(f"{path.stem}({n}){path.suffix}")
    return candidate


def write_submission(
    path: Path,
    info: Mapping[str, object] | None = None,
    rows: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
    rules: Rules | None = None,
    layout: Layout | None = None,
    notes: Sequence[str] = (),
    record: PrefillRecord | None = None,
) -> Path:
    """The branch submission workbook: blank template when info/rows are None, or filled
    with `info` (field id -> value for the 报送信息 sheet) and `rows` (form id -> list of
    rows, each field id -> raw cell value: str/float/int/date/datetime/None).

    A pre-filled workbook also gets `notes` atop 填报说明 and `record` in a very hidden sheet.
    It is written in a private folder beside `path` (kam.fs) and moved into place whole, with
    the umask's mode: a failure at any point leaves nothing behind.
    """
    path = Path(path)
    rules = rules or load_rules()
    layout = layout or Layout()
    info = dict(info or {})
    rows = dict(rows or {})
    _check_ids(info, rows)
    try:
        with private_dir(path) as work:
            _write_workbook(work / path.name, info, rows, rules, layout, notes, record)
            set_mode_like(work / path.name, None)
            os.replace(work / path.name, path)
    except (FileCreateError, OSError) as exc:
        inner = exc.args[0] if isinstance(exc, FileCreateError) and exc.args else exc
        cause = os_cause(inner) if isinstance(inner, OSError) else None
        why = f"{cause.zh}。{cause.advice}" if cause else "请确认文件夹存在且文件未在 Excel 中打开"
        raise UsageError(f"无法写入文件 {path}：{why}") from exc
    return path


def _write_workbook(
    path: Path,
    info: dict[str, object],
    rows: dict[str, Sequence[Mapping[str, object]]],
    rules: Rules,
    layout: Layout,
    notes: Sequence[str],
    record: PrefillRecord | None,
) -> None:
    """write_submission's workbook at `path`, inside its private folder (row XML files too)."""
    wb = xlsxwriter.Workbook(str(path), _WORKBOOK_OPTIONS)
    wb.set_properties(
        {"title": TEMPLATE_FILENAME.removesuffix(".xlsx"), "author": "KAM", "created": CREATED}
    )
    styles = _Styles(wb)
    write_instructions(wb.add_worksheet(INSTRUCTIONS_SHEET), styles, rules, notes)
    _write_info(wb.add_worksheet(INFO.sheet), styles, {"version": TEMPLATE_VERSION, **info})
    contract_rows = layout.rows(len(rows.get("contracts", ())))
    spliced: list[SheetRows] = []
    for form in TABLE_FORMS:
        data = rows.get(form.id, ())
        ws = wb.add_worksheet(form.sheet, _RosterSheet if form is ROSTER else None)
        _write_table(ws, styles, form, () if layout.spliced else data, layout.rows(len(data)))
        if layout.spliced:
            formula = tf.ref_tier_formula(rules.tier.default) if form is ROSTER else None
            folder = path.parent
            spliced.append(
                table_rows(
                    folder, ws.index, form, data, layout.rows(len(data)), styles.rows(form), formula
                )
            )
        elif form is ROSTER:
            _write_tier_formulas(ws, styles, data, layout.rows(len(data)), rules)
    _write_lists(wb)
    if record:
        _write_record(wb, styles, record, path.parent, spliced)
    wb.define_name(tf.AS_OF_NAME, tf.as_of_formula())
    wb.define_name(tf.WINDOW_START_NAME, tf.window_start_formula(rules.tier.default))
    for name, ref in tf.contract_range_formulas(contract_rows).items():
        wb.define_name(name, ref)
    wb.close()
    if spliced:
        splice(path, spliced)


def _check_ids(info: Mapping[str, object], rows: Mapping[str, object]) -> None:
    """Unknown form or field ids are a caller's mistake: say which, in Chinese."""
    unknown = [k for k in info if k not in INFO]
    if unknown:
        raise UsageError(f"“{INFO.sheet}”没有这些项目：{', '.join(unknown)}")
    tables = {f.id: f for f in TABLE_FORMS}
    for form_id, data in rows.items():
        if form_id not in tables:
            raise UsageError(f"没有 id 为“{form_id}”的数据表（可用：{', '.join(tables)}）")
        form = tables[form_id]
        for i, row in enumerate(data):  # type: ignore[attr-defined]
            bad = [k for k in row if k not in form]
            if bad:
                raise UsageError(f"“{form.sheet}”第 {i + 1} 行有未知字段：{', '.join(bad)}")


def _write_value(
    ws: Worksheet, r: int, c: int, value: Any, fmt: Format | None, st: _Styles
) -> None:
    """One raw value with its real type; strings never become formulas, numbers or links."""
    if value is None or (isinstance(value, float | dt.date) and value != value):  # NaN, NaT
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        ws.write_string(r, c, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, dt.datetime):
        has_time = value.time() != dt.time(0)
        ws.write_datetime(r, c, value, st.datetime if has_time else st.date)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime.combine(value, dt.time(0)), st.date)
    elif isinstance(value, numbers.Real):
        ws.write_number(r, c, float(value), fmt)
    else:
        raise UsageError(f"无法写入单元格 {column_letter(c)}{r + 1} 的值 {value!r}（类型不支持）")


def _header_note(form: Form, index: int) -> str:
    """The header comment: required mark, help, or the computed-column note."""
    field = form.fields[index]
    if field.computed:
        how = "由公式按合同台账计算" if field is ROSTER["ref_tier"] else "由加载项“计算等级”填写"
        return f"{COMPUTED_NOTE}（{how}）"
    parts = ["必填" if field.required else "选填", field.help]
    if field.required_when:
        other, value = field.required_when
        parts.append(f"“{form[other].header}”为“{value}”时必填")
    return "。".join(p for p in parts if p)


def _write_table(
    ws: Worksheet, st: _Styles, form: Form, data: Sequence[Mapping[str, object]], rows: tf.Rows
) -> None:
    """Headers, widths, formats, validation and (when filled) the data of one table sheet."""
    last_col = len(form.fields) - 1
    for t in range(rows.header):  # a title above the header, as branches often add
        ws.merge_range(t, 0, t, last_col, form.sheet, st.title)
    for c, field in enumerate(form.fields):
        fmt = st.computed if field.computed else st.column(field.kind)
        ws.set_column(c, c, field.width, fmt)
        if field.computed:
            head = st.computed_header
        else:
            head = st.required if field.required else st.header
        ws.write_string(rows.header, c, field.header, head)
        ws.write_comment(rows.header, c, _header_note(form, c), {"author": "KAM"})
        spec = tf.validation(field)
        if spec is not None and not field.computed:
            ws.data_validation(rows.first, c, rows.last, c, spec)
        for i, row in enumerate(data):
            if field is not ROSTER["ref_tier"]:  # that one is a formula, written separately
                _write_value(ws, rows.first + i, c, row.get(field.id), fmt, st)
    ws.freeze_panes(rows.header + 1, 0)
    ws.autofilter(rows.header, 0, rows.last, last_col)
    ws.ignore_errors(
        {"number_stored_as_text": f"A{rows.first + 1}:{column_letter(last_col)}{rows.last + 1}"}
    )
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(rows.header)
    # The validation and formulas reach 5000 rows; printing them all gave 68 blank pages.
    ws.print_area(0, 0, rows.header + max(len(data), PRINT_ROWS), last_col)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&C{form.sheet}  第 &P 页，共 &N 页")


def _write_tier_formulas(
    ws: Worksheet,
    st: _Styles,
    data: Sequence[Mapping[str, object]],
    rows: tf.Rows,
    rules: Rules,
) -> None:
    """参考等级 on every roster data row; a caller may pass its value as the cached result."""
    col = ROSTER.fields.index(ROSTER["ref_tier"])
    formula = tf.ref_tier_formula(rules.tier.default)
    for r in range(rows.first, rows.last + 1):
        i = r - rows.first
        cached = data[i].get("ref_tier") if i < len(data) else None
        # Cached "" (an empty <v>): LibreOffice treats such cells as not yet calculated and
        # computes them on load; Excel recalculates everything (xlsxwriter sets
        # fullCalcOnLoad).
        value = "" if cached is None else str(cached)
        ws.write_formula(r, col, tf.for_row(formula, r), st.computed, value)


def _write_info(ws: Worksheet, st: _Styles, info: Mapping[str, object]) -> None:
    """报送信息: labels in A, values in B, one row per INFO field from row 1."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, len(INFO.fields) - 1, 2)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, max(f.width for f in INFO.fields))
    ws.set_column(2, 2, 40)
    for r, field in enumerate(INFO.fields):
        ws.write_string(r, 0, field.header, st.required if field.required else st.header)
        ws.write_comment(r, 0, _header_note(INFO, r), {"author": "KAM"})
        fmt = st.computed if field.id == "version" else st.column(field.kind)
        _write_value(ws, r, 1, info.get(field.id), fmt, st)
        spec = tf.validation(field, f"B{r + 1}")
        if spec is not None:
            ws.data_validation(r, 1, r, 1, spec)
        if field.help:  # a visible hint beside the value (the reader only reads A:B)
            ws.write_string(r, 2, field.help, st.hint)


def _write_lists(wb: xlsxwriter.Workbook) -> None:
    """The hidden `_lists` sheet and one workbook name per Choices (dropdown sources)."""
    ws = wb.add_worksheet(LISTS_SHEET)
    for c, choices in enumerate(ALL_CHOICES):
        ws.write_string(0, c, choices.name)
        for r, value in enumerate(choices.values, start=1):
            ws.write_string(r, c, value)
        ref = f"${column_letter(c)}$2:${column_letter(c)}${len(choices.values) + 1}"
        wb.define_name(choices.name, f"={tf.sheet_ref(LISTS_SHEET)}!{ref}")
    ws.hide()


def _write_record(
    wb: xlsxwriter.Workbook,
    styles: _Styles,
    record: PrefillRecord,
    folder: Path,
    spliced: list[SheetRows],
) -> None:
    """The very hidden `_kam_prefill` sheet: what HQ pre-filled, for validation to compare."""
    ws = wb.add_worksheet(PREFILL_SHEET)
    ws.write_row(0, 0, PREFILL_HEADERS)
    ws.very_hidden()
    quoted = styles.quoted()._get_xf_index()
    spliced.append(text_rows(folder, ws.index, record.lines(), first=2, quoted=quoted))
