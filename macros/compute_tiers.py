"""The 计算等级 button: fill 计算等级 and 等级依据 next to each roster row of the open book."""

from __future__ import annotations

from kam.forms import ROSTER
from kam.io.book import Book
from kam.reader import read_book
from kam.rules import Rules, user_rules
from kam.tier_report import TierReport, tier_submission
from macros.validate import guarded

TITLE = "计算等级"


def compute_tiers(book: Book, rules: Rules | None = None) -> TierReport:
    """Compute every roster customer's tier (same path as `kam tier`) and write it back."""
    sub = read_book(book.to_raw())
    result = tier_submission(sub, None, rules or user_rules())
    sheet = sub.sheets[ROSTER.id].sheet
    book.write_column(sheet, ROSTER["calc_tier"].header, result.customers["computed"].to_dict())
    book.write_column(sheet, ROSTER["tier_reason"].header, result.customers["reason"].to_dict())
    return result


def summary(result: TierReport) -> str:
    counts = result.customers["check"].value_counts()
    unsupported, upgrade = counts.get("tier_unsupported", 0), counts.get("tier_upgrade", 0)
    unverified = counts.get("unverified", 0)
    doubt = f"；待核实 {unverified} 个（其合同有错误，合并时将被拒收）" if unverified else ""
    return (
        f"已按 {result.as_of.isoformat()} 计算 {len(result.customers)} 个客户的等级；"
        f"需认定依据 {unsupported} 个，建议升级 {upgrade} 个{doubt}。"
    )


def run(book: Book) -> None:
    """The button: compute, write the two columns, say what was found."""
    guarded(book, TITLE, lambda: summary(compute_tiers(book)))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
