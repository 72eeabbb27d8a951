"""Marking findings on their cells and listing them on 校验结果 (DOMAIN §6, `--annotate`).

The marking logic speaks only to the Book interface, so the 校验本簿 button (live Excel)
and `kam validate --annotate` (a file copy) mark the same cells the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kam.findings import Finding, Report
from kam.io.book import (
    LEVEL_TEXT,
    MACRO_SUFFIXES,
    RANK,
    Book,
    OverwriteSourceError,
    refuse_overwrite,
)
from kam.io.dropped import dropped_by_openpyxl
from kam.io.openpyxl_book import OpenpyxlBook
from kam.validate import ValidateSettings, validate_file

__all__ = [
    "AnnotateResult",
    "OverwriteSourceError",
    "annotate",
    "annotate_file",
    "summary_text",
]


@dataclass
class AnnotateResult:
    """What one annotation run did."""

    report: Report
    marked: int  # cells marked (several findings on one cell make one mark)
    cleared: int  # cells of the previous run whose marks were removed first
    dropped: list[str] = field(default_factory=list)  # features the saved copy lost
    out: Path | None = None  # the annotated copy (file runs only)


def annotate(book: Book, report: Report, lang: str = "zh") -> AnnotateResult:
    """Clear the previous run's marks, mark every finding that has a cell, list them all."""
    cleared = book.clear_marks()
    findings = report.sorted()
    names = set(book.sheet_names())
    marks: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in names and f.cell:
            marks.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, cell), group in marks.items():
        worst = max((f.level for f in group), key=RANK.__getitem__)
        book.mark(sheet, cell, worst, "\n".join(_line(f, lang) for f in group))
    book.write_results(findings, lang)
    return AnnotateResult(report, marked=len(marks), cleared=cleared)


def _line(f: Finding, lang: str) -> str:
    levels = LEVEL_TEXT.get(lang, LEVEL_TEXT["zh"])
    return f"【{levels[f.level]}】{f.message(lang)}"


def annotate_file(src: Path, out: Path, settings: ValidateSettings | None = None) -> AnnotateResult:
    """Validate `src` and write a marked copy to `out` (never over `src`).

    An unreadable `src` gives its report and no copy (`out` None), like `validate_file`.
    """
    src, out = Path(src), Path(out)
    refuse_overwrite(out, src)
    report = validate_file(src, settings or ValidateSettings())
    if report.unreadable:  # nothing to mark: the report says why, no copy is written
        return AnnotateResult(report, marked=0, cleared=0)
    book = OpenpyxlBook.open(src)
    result = annotate(book, report)
    keep_vba = book.keeps_vba and out.suffix.lower() in MACRO_SUFFIXES
    book.save_as(out)
    result.dropped = dropped_by_openpyxl(src, keep_vba=keep_vba)
    result.out = out
    return result


def summary_text(report: Report, lang: str = "zh") -> str:
    """The message box after 校验本簿: counts and what to do next."""
    s = report.summary()
    if lang == "en":
        return (
            f"{s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos. "
            "Marked cells are listed on the 校验结果 sheet."
        )
    if not report.findings:
        return "校验通过：未发现问题。"
    head = "校验完成，发现错误，请改正后重新校验。" if s["errors"] else "校验完成，未发现错误。"
    body = f"错误 {s['errors']} 个，警告 {s['warnings']} 个，提示 {s['infos']} 个。"
    tail = "有问题的单元格已标色并加批注，清单见“校验结果”工作表（点击单元格地址可跳转）。"
    if s["completeness"] is not None:
        body += f"信息登记卡档案完整率 {s['completeness']:.1%}。"
    return f"{head}\n{body}\n{tail}"
