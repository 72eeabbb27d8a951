"""Validation: read a workbook tolerantly, run every rule, collect all findings in a report.

On a large submission (and where fork exists) the rules are shared between this process and
one forked helper, so that both cores work; the findings keep the rules' order either way.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from kam.checks import CheckContext
from kam.errors import UnreadableFileError
from kam.findings import Finding, Report
from kam.io.files import ReadLimits
from kam.io.isolate import FORKS
from kam.io.raw import RawBook
from kam.reader import read_book, read_file
from kam.rules import Rules, load_rules
from kam.submission import Submission
from validators import CHECKS, Check, completeness, formula_in_data, phone, unknown_customer, uscc

# Rules the helper runs: costly per cell, few findings (findings travel back pickled).
HELPER_CHECKS: tuple[Check, ...] = (
    formula_in_data.check,
    phone.check,
    unknown_customer.check,
    uscc.check,
)
_FORK = mp.get_context("fork") if FORKS else None


@dataclass(frozen=True)
class ValidateSettings:
    """What a validation run is judged against."""

    today: dt.date | None = None  # None = the real today
    rules: Rules | None = None  # None = the shipped defaults
    limits: ReadLimits = field(default_factory=ReadLimits)
    parallel_rows: int = 20_000  # from this many data rows on, rules run on two cores

    def context(self, sub: Submission) -> CheckContext:
        return CheckContext(sub, self.today or dt.date.today(), self.rules or load_rules())


def validate_submission(sub: Submission, settings: ValidateSettings = ValidateSettings()) -> Report:
    """Every finding of the reader and of every rule; never stops at the first one."""
    report = Report(
        file=sub.file,
        findings=list(sub.findings),
        skipped_sheets=sub.skipped_sheets,
        sheet_order=sub.sheet_order,
    )
    ctx = settings.context(sub)
    rows = sum(len(data) for data in sub.sheets.values())
    if _FORK is None or rows < settings.parallel_rows:
        for check in CHECKS:
            report.extend(check(ctx))
    else:
        for found in _run_shared(ctx):
            report.extend(found)
    report.completeness = completeness.ratio(sub)
    return report


def _run_shared(ctx: CheckContext) -> list[list[Finding]]:
    """Every check's findings, in CHECKS order; HELPER_CHECKS run in a forked helper."""
    assert _FORK is not None
    receive, send = _FORK.Pipe(duplex=False)
    helper = _FORK.Process(target=_helper_main, args=(send, ctx, HELPER_CHECKS), daemon=True)
    helper.start()
    send.close()  # ours: a dead helper then reads as EOF
    try:
        mine = {check: list(check(ctx)) for check in CHECKS if check not in HELPER_CHECKS}
        try:
            theirs = receive.recv()
        except (EOFError, OSError):
            theirs = None
    finally:
        receive.close()
        helper.join()
        helper.close()
    if theirs is None:  # the helper failed: run its checks here (and raise what they raise)
        theirs = [list(check(ctx)) for check in HELPER_CHECKS]
    done = dict(zip(HELPER_CHECKS, theirs, strict=True)) | mine
    return [done[check] for check in CHECKS]


def _helper_main(send: Connection, ctx: CheckContext, checks: Sequence[Check]) -> None:
    try:
        found: list[list[Finding]] | None = [list(check(ctx)) for check in checks]
    except Exception:  # the parent runs them again and reports the error itself
        found = None
    send.send(found)
    send.close()


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
        # findings name the file as the user gave it
        sub = read_file(Path(path), settings.limits, file=str(path))
    except UnreadableFileError as exc:
        exc.file = str(path)
        return unreadable_report(exc)
    report = validate_submission(sub, settings)
    quote_formulas(report, Path(path))
    return report


def quote_formulas(report: Report, path: Path) -> None:
    """formula_in_data messages quote the formula itself (`=SUM(1,1)`), not its cached value."""
    from kam.io.formula_text import formula_texts

    hits = [f for f in report.findings if f.rule == formula_in_data.RULE and f.cell and f.sheet]
    wanted: dict[str, list[str]] = {}
    for f in hits:
        wanted.setdefault(f.sheet, []).append(f.cell)  # type: ignore[arg-type]
    texts = formula_texts(path, wanted)
    for f in hits:
        text = texts.get((f.sheet, f.cell))  # type: ignore[arg-type]
        if text is not None:
            f.params["value"] = text
