"""The 合并报送 button: not in this version of the add-in; it points to `kam merge`."""

from __future__ import annotations

from kam.io.book import Book

TITLE = "合并报送"
MESSAGE = (
    "本版本加载项暂不支持在 Excel 中合并报送。"
    "请在命令行运行：kam merge 报送文件夹 --register 总台账.xlsx"
    "（合并前请先在 Excel 中关闭总台账）。"
)


def run(book: Book) -> None:
    """The button: say where the job is done today."""
    book.alert(TITLE, MESSAGE)


def main() -> None:
    """Excel entry point (RunPython): the calling workbook."""
    from addin.excel_book import caller_book

    run(caller_book())
