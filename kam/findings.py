"""Findings (one mistake at one place) and the report that collects them (DOMAIN §6, §7.1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kam.forms import FORMS
from kam.messages import CATALOG, Severity, render


def column_letter(index: int) -> str:
    """Excel column letters for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """0-based column index of Excel column letters."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: rule id, severity, location and the params of its message."""

    rule: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    severity: Severity | None = None

    @property
    def level(self) -> Severity:
        """The severity, defaulting to the rule's catalogue severity."""
        return self.severity or CATALOG[self.rule].severity

    def message(self, lang: str = "zh") -> str:
        params = {"column": self.column or "", "sheet": self.sheet or "", **self.params}
        return render(self.rule, params, lang)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "rule": self.rule,
            "severity": str(self.level),
            "message": self.message(lang),
        }


@dataclass
class Report:
    """All findings of one validation run, never cut short at the first one."""

    file: str
    findings: list[Finding] = field(default_factory=list)
    completeness: float | None = None
    unreadable: bool = False
    skipped_sheets: list[str] = field(default_factory=list)  # macro sheets left unread
    sheet_order: list[str] = field(default_factory=list)  # the workbook's tab order

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.level is severity)

    @property
    def ok(self) -> bool:
        return not self.unreadable and self.count(Severity.ERROR) == 0

    def summary(self) -> dict[str, Any]:
        return {
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
            "completeness": None if self.completeness is None else round(self.completeness, 4),
        }

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "file": self.file,
            "ok": self.ok,
            "findings": [f.to_json(lang) for f in self.sorted()],
            "summary": self.summary(),
        } | ({"skipped_sheets": self.skipped_sheets} if self.skipped_sheets else {})

    def sorted(self) -> list[Finding]:
        """Findings in reading order: file-level first, then sheet by sheet in the workbook's
        tab order (missing sheets last, in the template's order), then by row and column."""
        rank: dict[str, int] = {}
        for name in [*self.sheet_order, *(form.sheet for form in FORMS)]:
            rank.setdefault(name, len(rank))
        return sorted(
            self.findings,
            key=lambda f: (
                f.sheet is not None,
                rank.get(f.sheet, len(rank)) if f.sheet else -1,
                f.sheet or "",
                f.row or 0,
                column_index(_letters(f.cell)) if f.cell else -1,
                f.rule,
            ),
        )


def _letters(cell: str) -> str:
    return cell.rstrip("0123456789")
