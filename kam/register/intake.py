"""One branch file taken in: every data row sorted into merged, rejected or duplicate.

Decisions (DOMAIN §5 leaves them open):
- A file that cannot be read, has no usable 报送单位 / 报送季度, or an unknown template
  version is rejected whole (status "rejected"); its rows count as rejected.
- A missing table sheet is listed in 报送情况 and the file is "partial"; its other sheets
  merge. A missing required column the rules read (kam.register.inputs.NEEDED) rejects
  every row of that sheet with that reason, and 报送情况 lists the sheet under 整表拒收; any
  other missing required column leaves the rows merged with the column blank, the file
  "partial" and the missing column named in its reason.
- A row with an `error` finding is rejected, its original values kept in 拒收记录. A row
  whose only errors are `duplicate_key` and whose values equal the first row's is a
  duplicate of that row (listed in 拒收记录 with rule "duplicate", not counted as rejected).
- A text over Excel's 32,767-character cell limit rejects its row (rule "too_long").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kam.errors import UnreadableFileError
from kam.findings import Finding
from kam.forms import INFO, TABLE_FORMS, Form
from kam.io.files import ReadLimits
from kam.messages import Severity
from kam.reader import read_file
from kam.register.inputs import NEEDED
from kam.register.newest import modified_time, saved_time
from kam.rules import Rules
from kam.submission import SheetData, Submission, display
from kam.validate import ValidateSettings, quote_formulas, validate_submission

EXCEL_CELL_LIMIT = 32767
FILE_FATAL = frozenset({"template_version", "unreadable"})
DUPLICATE_RULE = "duplicate"
TOO_LONG_RULE = "too_long"

MERGED, PARTIAL, REJECTED, UNCHANGED = "merged", "partial", "rejected", "unchanged"
SUPERSEDED = "superseded"
UNREADABLE = "无法读取文件："  # how the reason of a file that could not be read begins
STATUS_TEXT = {
    MERGED: "已合并",
    PARTIAL: "部分合并",
    REJECTED: "整份拒收",
    UNCHANGED: "未变化",
    SUPERSEDED: "已被取代",
}
"""How a file's status reads for people (报送情况, the CLI, the button); JSON keeps the keys."""


@dataclass
class FileOutcome:
    """What happened to one inbox file (a row of 报送情况, an item of `kam merge --json`)."""

    file: str
    branch: str | None = None
    quarter: str | None = None
    status: str = MERGED
    rows_in: int = 0
    merged: int = 0
    rejected: int = 0
    duplicate: int = 0
    reason: str = ""
    missing_sheets: tuple[str, ...] = ()
    rejected_sheets: tuple[str, ...] = ()  # sheets whose every row was refused, with why
    missing_columns: tuple[str, ...] = ()  # `表名“列名”` merged blank (not a rule's input)
    sha256: str = ""
    submitted_on: dt.date | None = None
    saved_at: dt.datetime | None = None  # docProps/core.xml dcterms:modified
    modified_at: dt.datetime | None = None  # the file's modification time

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "branch": self.branch,
            "quarter": self.quarter,
            "status": self.status,
            "rows_in": self.rows_in,
            "merged": self.merged,
            "rejected": self.rejected,
            "duplicate": self.duplicate,
            "reason": self.reason or None,
            "missing_sheets": list(self.missing_sheets),
            "rejected_sheets": list(self.rejected_sheets),
            "missing_columns": list(self.missing_columns),
        }

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.merged + self.rejected + self.duplicate


@dataclass
class Intake:
    """A file's outcome, its merged rows per form id and its 拒收记录 rows."""

    outcome: FileOutcome
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)  # typed, field ids + provenance
    refused: list[dict[str, Any]] = field(default_factory=list)  # REJECTED form rows

    def reject_whole(self, reason: str, rule: str) -> Intake:
        """Turn this intake into a whole-file rejection (rows already counted stay counted)."""
        o = self.outcome
        o.status, o.reason = REJECTED, reason
        o.rejected, o.merged, o.duplicate = o.rows_in, 0, 0
        self.rows = {}
        self.refused = [] if rule == SUPERSEDED else [_refusal(o, None, None, rule, reason, "")]
        if rule == SUPERSEDED:  # not bad data: a newer file of the branch stands in
            o.status, o.rejected_sheets = SUPERSEDED, ()
        return self

    @property
    def merges(self) -> bool:
        """True when this file's rows go into the register."""
        return self.outcome.status in (MERGED, PARTIAL)


@dataclass(frozen=True)
class IntakeSettings:
    """What every file of one merge is judged against."""

    today: dt.date
    rules: Rules
    limits: ReadLimits = field(default_factory=ReadLimits)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def take_in(path: Path, sha: str, settings: IntakeSettings, name: str | None = None) -> Intake:
    """Read, validate and sort one file (named `name` in reports); never raises on content."""
    outcome = FileOutcome(file=name or path.name, sha256=sha)
    outcome.saved_at, outcome.modified_at = saved_time(path), modified_time(path)
    intake = Intake(outcome)
    try:
        sub = read_file(path, settings.limits, file=outcome.file)
    except UnreadableFileError as exc:
        outcome.rejected_sheets = ("全部（文件无法读取）",)
        return intake.reject_whole(f"{UNREADABLE}{exc.reason}", "unreadable")
    return sort_submission(intake, sub, settings, path)


def sort_submission(
    intake: Intake, sub: Submission, settings: IntakeSettings, path: Path | None = None
) -> Intake:
    """Validate a read submission and sort its rows into merged, rejected or duplicate."""
    outcome = intake.outcome
    report = validate_submission(sub, ValidateSettings(today=settings.today, rules=settings.rules))
    if path is not None:
        quote_formulas(report, path)  # 拒收记录 quotes the formula, not its cached value
    outcome.branch, outcome.quarter = sub.unit, sub.quarter
    submitted = sub.info("submitted_on")
    outcome.submitted_on = submitted.date() if isinstance(submitted, dt.datetime) else None
    outcome.rows_in = sum(len(sub.sheets[f.id]) for f in TABLE_FORMS if f.id in sub.sheets)
    fatal = _fatal_reason(sub, report.findings)
    if fatal:
        outcome.rejected_sheets = tuple(
            f"{sub.sheets[f.id].sheet}（{len(sub.sheets[f.id])} 行）"
            for f in TABLE_FORMS
            if f.id in sub.sheets
        ) or ("全部",)
        return intake.reject_whole(*fatal)
    by_sheet: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        if f.level is Severity.ERROR and f.sheet is not None:
            by_sheet[f.sheet].append(f)
    missing, whole, blank_columns = [], [], []
    for form in TABLE_FORMS:
        data = sub.sheets.get(form.id)
        if data is None:
            missing.append(form.sheet)
            continue
        errors, blanks = _split_missing_columns(form, by_sheet.get(data.sheet, []))
        blank_columns += [f"{data.sheet}“{f.column}”" for f in blanks]
        if any(f.row is None for f in errors) and len(data):
            why = "；".join(dict.fromkeys(f.message() for f in errors if f.row is None))
            whole.append(f"{data.sheet}（{len(data)} 行：{why}）")
        _sort_rows(intake, form, data, errors)
    outcome.missing_sheets = tuple(missing)
    outcome.rejected_sheets = tuple(whole)
    outcome.missing_columns = tuple(blank_columns)
    if missing or outcome.rejected or blank_columns:
        outcome.status = PARTIAL
        parts = [f"缺少工作表：{'、'.join(missing)}"] if missing else []
        if blank_columns:
            parts.append(f"缺少列 {'、'.join(blank_columns)}：各行已合并，该列为空，请补报")
        if outcome.rejected:
            parts.append(f"{outcome.rejected} 行有错误未合并，见“拒收记录”")
        outcome.reason = "；".join(parts)
    return intake


def _fatal_reason(sub: Submission, findings: list[Finding]) -> tuple[str, str] | None:
    """Why the whole file is rejected, as (message, rule), or None."""
    if INFO.id not in sub.sheets:
        return f"缺少工作表“{INFO.sheet}”，无法确定报送单位和季度", "missing_sheet"
    for f in findings:
        if f.rule in FILE_FATAL and f.level is Severity.ERROR:
            return f.message(), f.rule
    if sub.unit is None or not str(sub.unit).strip():
        return f"“{INFO.sheet}”未填写“{INFO['unit'].header}”，无法确定报送单位", "required"
    if sub.quarter is None:
        return f"“{INFO.sheet}”的“{INFO['quarter'].header}”缺失或格式不正确（应如 2026Q3）", "type"
    return None


def _split_missing_columns(
    form: Form, errors: list[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """(errors that refuse rows, missing required columns no rule reads: rows merge)."""
    needed = NEEDED.get(form.id, frozenset({"uscc"}))
    by_header = {f.header: f.id for f in form.data_fields}
    blank = [
        f
        for f in errors
        if f.rule == "missing_column"
        and f.row is None
        and by_header.get(f.column or "") not in needed
    ]
    return [f for f in errors if f not in blank], blank


def _sort_rows(intake: Intake, form: Form, data: SheetData, errors: list[Finding]) -> None:
    """Rows with errors (looped: they are few) are refused; the rest merge in one block."""
    o = intake.outcome
    frame = data.frame
    sheet_level = [f for f in errors if f.row is None]
    per_row: dict[int, list[Finding]] = defaultdict(list)
    for f in errors:
        if f.row is not None:
            per_row[f.row].append(f)
    if sheet_level:
        per_row = {int(row): sheet_level for row in frame.index}
    too_long = _too_long(form, frame)
    refused: set[int] = set()
    made: list[tuple[int, str, str]] = []
    for row in sorted({*map(int, per_row), *too_long} & set(map(int, frame.index))):
        found = per_row.get(row)
        if found:
            refused.add(row)
            first = _duplicate_of(data, row, found)
            if first is not None:
                o.duplicate += 1
                msg = f"与本表第 {first} 行完全相同，按重复行处理，保留第 {first} 行"
                rule = DUPLICATE_RULE
            else:
                o.rejected += 1
                rule = "、".join(dict.fromkeys(f.rule for f in found))
                msg = "；".join(dict.fromkeys(f.message() for f in found))
        elif row in too_long:
            refused.add(row)
            o.rejected += 1
            rule = TOO_LONG_RULE
            msg = (
                f"“{'、'.join(too_long[row])}”超过 Excel 单元格上限 {EXCEL_CELL_LIMIT} 字符，"
                "整行未合并；请精简内容后重新报送"
            )
        else:
            continue
        made.append((row, rule, msg))
    originals = _originals(data, [row for row, _, _ in made])
    for (row, rule, msg), original in zip(made, originals, strict=True):
        refusal = _refusal(o, data.sheet, row, rule, msg, original)
        refusal["uscc"] = _code(data, row)
        intake.refused.append(refusal)
    keep = frame.index[~frame.index.isin(list(refused))]
    o.merged += len(keep)
    if len(keep):
        rows = frame.loc[keep].copy()
        rows["source_unit"] = o.branch
        rows["source_file"] = o.file
        rows["quarter"] = o.quarter
        intake.rows[form.id] = rows.astype(object).where(rows.notna(), None)


def _too_long(form: Form, frame: pd.DataFrame) -> dict[int, list[str]]:
    """Row -> headers of its texts over Excel's cell limit (checked column by column)."""
    out: dict[int, list[str]] = defaultdict(list)
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            continue  # only text can be too long (pandas 3 text may be `str`, not object)
        for row in col.index[_lengths(col) > EXCEL_CELL_LIMIT]:
            out[int(row)].append(form[str(c)].header)
    return out


def _lengths(col: pd.Series) -> np.ndarray:
    """Each cell's text length (0 for anything else)."""
    try:
        return col.astype(object).str.len().fillna(0).to_numpy(float)
    except AttributeError:  # no text in the column at all
        return np.zeros(len(col))


def _duplicate_of(data: SheetData, row: int, found: list[Finding]) -> int | None:
    """The first row this one repeats exactly, when duplicate_key is its only error."""
    if any(f.rule != "duplicate_key" or f.row is None for f in found):
        return None
    firsts = {f.params.get("first_row") for f in found}
    if len(firsts) != 1:
        return None
    first = firsts.pop()
    if not isinstance(first, int) or first not in data.raw.index:
        return None
    a = [display(v) for v in data.raw.loc[row]]
    b = [display(v) for v in data.raw.loc[first]]
    return first if a == b else None


def _code(data: SheetData, row: int) -> str | None:
    """The row's customer code as read (cleaned), or None when absent or not text."""
    if "uscc" not in data.present:
        return None
    value = data.frame.at[row, "uscc"]
    return value.strip() or None if isinstance(value, str) else None


def _originals(data: SheetData, rows: list[int]) -> list[str]:
    """Each row's original values as `表头=值；…` (blank cells left out), from the raw frame
    at once (a .loc per row cost more than the rest of the intake)."""
    if not rows:
        return []
    raw = data.raw.loc[rows]
    heads = [data.form[str(fid)].header for fid in raw.columns]
    return [
        "；".join(f"{h}={t}" for h, t in zip(heads, map(display, values), strict=True) if t)
        for values in raw.itertuples(index=False, name=None)
    ]


def _refusal(
    o: FileOutcome, sheet: str | None, row: int | None, rule: str, message: str, original: str
) -> dict[str, Any]:
    return {
        "file": o.file,
        "unit": o.branch,
        "quarter": o.quarter,
        "sheet": sheet,
        "row": row,
        "rule": rule,
        "message": message,
        "original": original,
    }
