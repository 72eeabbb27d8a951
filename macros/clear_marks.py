"""The 清除标记 button: put back the fills and comments the last 校验本簿 replaced."""

from __future__ import annotations

from kam.io.book import Book
from macros.validate import guarded

TITLE = "清除标记"


def clear_marks(book: Book) -> str:
    """Clear the marks and the 校验结果 sheet; the message for the user."""
    n = book.clear_marks()
    return f"已清除 {n} 个单元格的标记，原有底色与批注已恢复。" if n else "没有需要清除的标记。"


def run(book: Book) -> None:
    """The button: clear, then say how many cells were cleared."""
    guarded(book, TITLE, lambda: clear_marks(book))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
