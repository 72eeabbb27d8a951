"""The 风险标记 button: not in this version of the add-in; it points to `kam risk`."""

from __future__ import annotations

from kam.io.book import Book

TITLE = "风险标记"
MESSAGE = (
    "本版本加载项暂不支持在 Excel 中标记风险。"
    "请在命令行运行：kam risk 总台账.xlsx --apply"
    "（运行前请先在 Excel 中关闭该文件）。"
)


def run(book: Book) -> None:
    """The button: say where the job is done today."""
    book.alert(TITLE, MESSAGE)


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
