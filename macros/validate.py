"""The 校验本簿 button: validate the open workbook, mark the cells, list the findings."""

from __future__ import annotations

from collections.abc import Callable

from kam import validate as kam_validate
from kam.annotate import annotate, summary_text
from kam.errors import KamError
from kam.findings import Report
from kam.io.book import Book
from kam.rules import user_rules

TITLE = "校验本簿"


def validate_book(book: Book, settings: kam_validate.ValidateSettings | None = None) -> Report:
    """Validate what the book holds now and mark it (the same path as `kam validate`)."""
    settings = settings or kam_validate.ValidateSettings(rules=user_rules())
    report = kam_validate.validate_book(book.to_raw(), settings)
    annotate(book, report)
    return report


def guarded(book: Book, title: str, action: Callable[[], str]) -> None:
    """Run a button's action and show its result; errors become a Chinese message box."""
    try:
        text = action()
    except KamError as exc:
        book.alert(title, f"{title}未完成：{exc}")
    except Exception as exc:  # a bug must not show Excel users a traceback
        book.alert(title, f"{title}时发生内部错误（{type(exc).__name__}: {exc}），请联系管理员。")
    else:
        book.alert(title, text)


def run(book: Book, settings: kam_validate.ValidateSettings | None = None) -> None:
    """The button: validate, mark, then a message box with the counts."""
    guarded(book, TITLE, lambda: summary_text(validate_book(book, settings)))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
