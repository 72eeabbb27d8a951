"""The 新建模板 button: write the blank branch template beside the open workbook."""

from __future__ import annotations

from pathlib import Path

from kam.errors import UsageError
from kam.io.book import Book
from kam.template import TEMPLATE_FILENAME, write_template
from macros.validate import guarded

TITLE = "新建模板"


def target_folder(book_fullname: str, home: Path | None = None) -> Path:
    """The calling workbook's folder; the user's Documents when it was never saved locally."""
    # An unsaved book's FullName is just "工作簿1"; a OneDrive one is an https:// URL.
    path = Path(book_fullname)
    if "://" not in book_fullname and path.is_absolute() and path.parent.is_dir():
        return path.parent
    home = home or Path.home()
    documents = home / "Documents"
    return documents if documents.is_dir() else home


def new_template(folder: Path) -> str:
    """Write the blank template into folder (never over an existing file); the message."""
    target = Path(folder) / TEMPLATE_FILENAME
    if target.exists():
        raise UsageError(f"{target} 已存在，未覆盖。如需新模板，请先将原文件改名或移走后再点击。")
    written = write_template(Path(folder))
    return "已生成空白模板：" + "、".join(str(p) for p in written)


def run(book: Book, folder: Path) -> None:
    """The button: write the template, then say where it is."""
    guarded(book, TITLE, lambda: new_template(folder))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook's folder."""
    from addin.excel_book import caller_book

    book = caller_book()
    run(book, target_folder(book.book.fullname))
