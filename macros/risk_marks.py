"""The 风险标记 button: recompute risk on the open register and write it into the book.

The same engine as `kam risk` runs over what the open book holds now (every merged row and
HQ's 人工风险等级); 风险等级 and 风险原因 are rewritten in place. The row colours follow by
themselves: they are the register's conditional formats.
"""

from __future__ import annotations

from kam.errors import UsageError
from kam.io.book import Book
from kam.register.columns import REG_ROSTER
from kam.register.previous import previous_from_sheets
from kam.register.reassess import RegisterRisk, risk_of
from kam.rules import Rules, user_rules
from macros.validate import guarded

TITLE = "风险标记"


def risk_marks(book: Book, rules: Rules | None = None) -> RegisterRisk:
    """Recompute every customer's risk and write 风险等级 / 风险原因 beside each row."""
    raw = book.to_raw()
    if REG_ROSTER.sheet not in raw.sheets:
        raise UsageError(f"当前工作簿不是集团大客户名录（缺少“{REG_ROSTER.sheet}”工作表）")
    prev = previous_from_sheets({name: sheet.rows for name, sheet in raw.sheets.items()})
    found = risk_of(prev, book.name, rules or user_rules(), None)
    rows = _rows_by_key(raw.sheets[REG_ROSTER.sheet].rows)
    customers = found.result.customers
    levels, reasons = {}, {}
    for key, level, why in zip(
        customers["uscc"], customers["level"], customers["reasons"], strict=True
    ):
        for row in rows.get(key, ()):
            levels[row] = level
            reasons[row] = "；".join(f"[{r.level}] {r.rule}：{r.detail}" for r in why) or None
    book.write_column(REG_ROSTER.sheet, REG_ROSTER["risk_level"].header, levels)
    book.write_column(REG_ROSTER.sheet, REG_ROSTER["risk_reason"].header, reasons)
    return found


def _rows_by_key(grid: list[list[object]]) -> dict[str, list[int]]:
    """1-based sheet rows of each customer code in the register's main sheet."""
    header = grid[0] if grid else []
    col = header.index(REG_ROSTER["uscc"].header) if REG_ROSTER["uscc"].header in header else 0
    rows: dict[str, list[int]] = {}
    for r, values in enumerate(grid[1:], start=2):
        if col < len(values) and isinstance(values[col], str) and values[col]:
            rows.setdefault(values[col], []).append(r)
    return rows


def summary(found: RegisterRisk) -> str:
    counts = found.result.customers["level"].value_counts()
    text = "、".join(f"{level} {counts.get(level, 0)} 个" for level in ("高", "中", "低"))
    n = len(found.result.bankrupt)
    alarm = f"；紧急预警（破产征兆）{n} 个，须发预警通报 {n} 份（kam notice 名录）" if n else ""
    return f"已按 {found.as_of.isoformat()} 重新评估风险：{text}{alarm}。人工风险等级优先显示。"


def run(book: Book) -> None:
    """The button: recompute, write the two columns, say what was found."""
    guarded(book, TITLE, lambda: summary(risk_marks(book)))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
