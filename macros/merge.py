"""The 合并报送 button: pick the quarter's folder, merge it into the register, show the summary.

The register is the open workbook when it is one (closed for the merge, since Windows
refuses to replace an open file, and opened again after), else the rules file's
[merge] register_file, else 集团大客户名录.xlsx beside the folder: the same settings and
the same merge as `kam merge`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kam.errors import UsageError
from kam.io.book import Book
from kam.register.columns import REG_ROSTER
from kam.register.location import merge_settings
from kam.register.merge import MergeResult, merge
from kam.register.summary import merge_message
from kam.rules import Rules, user_rules
from macros.validate import guarded

TITLE = "合并报送"
PICK = "选择本季度分公司报送文件所在的文件夹"


def merge_into(
    book: Book, inbox: Path, rules: Rules | None = None, today: dt.date | None = None
) -> MergeResult:
    """Merge `inbox` into the register (see the module docstring); progress in the status bar."""
    rules = rules or user_rules()
    is_register = book.path is not None and REG_ROSTER.sheet in book.sheet_names()
    own = book.path if is_register else None
    settings = merge_settings(inbox, rules, register=own, today=today)
    if is_register:
        if book.has_unsaved_changes():
            raise UsageError("名录有未保存的修改：请先保存（Ctrl+S），再点“合并报送”")
        book.close()
    try:
        result = merge(settings, lambda step: book.status(f"{TITLE}：{step}"))
    finally:
        book.status("")
        if is_register:  # the new register, or the old one if the merge failed
            book.open_file(settings.register)
    if not is_register:
        book.open_file(result.register)
    return result


def run(book: Book, folder: Path | None = None) -> None:
    """The button: ask for the folder (unless given, as kam addin selftest does), merge,
    then a message box with the summary."""
    folder = folder or book.pick_folder(PICK)
    if folder is not None:
        guarded(book, TITLE, lambda: merge_message(merge_into(book, folder)))


def main(folder: str | None = None) -> None:
    """Excel entry point (RunPython, via KamRun): the calling workbook; folder skips the
    dialog."""
    from addin.excel_book import caller_book

    run(caller_book(), Path(folder) if folder else None)
