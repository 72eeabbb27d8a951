"""`type`: a cell whose value cannot be read as its column's type (a date, a number...)."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import Kind

RULE = "type"

EXPECTED: dict[Kind, tuple[str, str]] = {
    Kind.DATE: ("日期（如 2026-09-30）", "a date (e.g. 2026-09-30)"),
    Kind.NUMBER: ("数字", "a number"),
    Kind.INTEGER: ("整数", "a whole number"),
    Kind.USCC: (
        "18 位文本（以数字格式保存会丢失末几位，请将单元格设为文本后重新输入）",
        "18-character text (stored as a number it lost digits; re-type it as text)",
    ),
    Kind.QUARTER: ("季度（如 2026Q3）", "a quarter (e.g. 2026Q3)"),
}


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.kind in EXPECTED):
        bad = data.invalid.get(f.id)
        if bad is not None:
            zh, en = EXPECTED[f.kind]
            yield from data.emit(ctx.file, RULE, f.id, bad, {"expected": zh, "expected_en": en})
