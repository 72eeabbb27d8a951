"""The 新建模板 button: the blank branch template, or, on the register, next quarter pre-filled."""

from __future__ import annotations

import re
from pathlib import Path

from kam.errors import UsageError
from kam.io.book import Book
from kam.prefill import PrefillSettings, latest_quarter, next_quarter, prefill
from kam.register.columns import REG_ROSTER
from kam.template import TEMPLATE_FILENAME, write_template
from macros.validate import guarded

TITLE = "新建模板"
CANCELLED = "已取消，未写出文件。"
_SEPARATORS = re.compile(r"[、,，;；\s]+")


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


def is_register(book: Book) -> bool:
    """Whether the open workbook is the group register (a saved file with its roster sheet)."""
    return book.path is not None and REG_ROSTER.sheet in book.sheet_names()


def prefilled(book: Book, folder: Path) -> str:
    """Ask for the quarter and branches, then write their pre-filled workbooks; the message."""
    assert book.path is not None
    if book.has_unsaved_changes():
        raise UsageError("名录有未保存的修改；预填按已保存的名录生成，请先保存名录再点击。")
    latest = latest_quarter(book.path)
    quarter = book.ask(
        TITLE, "为哪个季度预填分公司报送？（如 2026Q4）", next_quarter(latest) if latest else ""
    )
    if quarter is None:
        return CANCELLED
    names = book.ask(TITLE, "为哪些单位预填？多个单位用顿号分隔；留空为名录中的全部单位", "")
    if names is None:
        return CANCELLED
    branches = tuple(n for n in _SEPARATORS.split(names) if n)
    out = Path(folder) / f"预填报送_{quarter.strip()}"
    done = prefill(PrefillSettings(book.path, quarter, out, branches))
    lines = [f"已为 {len(done)} 个单位写出预填的 {quarter.strip()} 报送，在 {out}："]
    lines += [f"{d.branch}：{d.path.name}" for d in done]
    return "\n".join(lines)


def run(book: Book, folder: Path) -> None:
    """The button: on the register, offer next quarter pre-filled; elsewhere the blank one."""
    if is_register(book):
        guarded(book, TITLE, lambda: prefilled(book, folder))
    else:
        guarded(book, TITLE, lambda: new_template(folder))


def main() -> None:
    """Excel entry point (RunPython): the calling workbook's folder."""
    from addin.excel_book import caller_book

    book = caller_book()
    run(book, target_folder(book.book.fullname))
