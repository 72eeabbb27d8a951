"""Validation: read a workbook tolerantly, run every rule, collect all findings in a report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kam.checks import CheckContext
from kam.errors import UnreadableFileError
from kam.findings import Finding, Report
from kam.io.files import ReadLimits, load_raw
from kam.io.raw import RawBook
from kam.reader import read_book
from kam.rules import Rules, load_rules
from kam.submission import Submission
from validators import CHECKS, completeness


@dataclass(frozen=True)
class ValidateSettings:
    """What a validation run is judged against."""

    today: dt.date | None = None  # None = the real today
    rules: Rules | None = None  # None = the shipped defaults
    limits: ReadLimits = field(default_factory=ReadLimits)

    def context(self, sub: Submission) -> CheckContext:
        return CheckContext(sub, self.today or dt.date.today(), self.rules or load_rules())


def validate_submission(sub: Submission, settings: ValidateSettings = ValidateSettings()) -> Report:
    """Every finding of the reader and of every rule; never stops at the first one."""
    report = Report(file=sub.file, findings=list(sub.findings))
    ctx = settings.context(sub)
    for check in CHECKS:
        report.extend(check(ctx))
    report.completeness = completeness.ratio(sub)
    return report


def validate_book(raw: RawBook, settings: ValidateSettings = ValidateSettings()) -> Report:
    """Validate a workbook already read into a raw grid (a file or an open Excel book)."""
    return validate_submission(read_book(raw), settings)


def unreadable_report(error: UnreadableFileError) -> Report:
    """The report of a file that could not be read at all: one file-level finding."""
    finding = Finding(
        "unreadable",
        error.file,
        params={"reason": error.reason, "reason_en": error.reason_en},
    )
    return Report(file=error.file, findings=[finding], unreadable=True)


def validate_file(path: Path, settings: ValidateSettings = ValidateSettings()) -> Report:
    """Validate a submission file; an unreadable file gives a report, not an exception."""
    try:
        raw = load_raw(Path(path), settings.limits)
    except UnreadableFileError as exc:
        exc.file = str(path)
        return unreadable_report(exc)
    raw.file = str(path)  # findings name the file as the user gave it
    return validate_book(raw, settings)
