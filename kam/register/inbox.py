"""The inbox folder: every file under it, read recursively, named by its relative path.

HQ unpacks mail attachments into subfolders, so the inbox is read recursively and a file is
named by its path relative to the inbox (`华东/华东分公司_2026Q3.xlsx`) in every report.
Skipped, and listed as skipped: Excel's owner files (`~$…` under 1 KiB: the lock Excel
keeps while a book is open), hidden files and folders (`.…`), and the register itself with
its history, lock and cache when they lie inside the inbox. A `~$` file of real size is read: it
is not an owner file, whatever its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kam.errors import UsageError
from kam.register.safety import HISTORY_DIR, lock_path
from kam.register.store import cache_path

OWNER_PREFIX = "~$"
OWNER_MAX_BYTES = 1024


@dataclass
class Inbox:
    """The files to read (path, name in reports) and the entries skipped, with why."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def scan_inbox(inbox: Path, register: Path | None = None) -> Inbox:
    """Every file under `inbox` in relative-path order; raises UsageError when none is left."""
    found = Inbox()
    own = _register_paths(register)
    entries = sorted(inbox.rglob("*"), key=lambda p: p.relative_to(inbox).as_posix())
    for path in entries:
        rel = path.relative_to(inbox)
        name = rel.as_posix()
        if not path.is_file():
            continue
        why = _skip_reason(path, rel, own)
        if why:
            found.skipped.append({"file": name, "reason": why})
        else:
            found.files.append((path, name))
    if not found.files:
        extra = f"（已跳过 {len(found.skipped)} 个临时或隐藏文件）" if found.skipped else ""
        raise UsageError(
            f"报送文件夹 {inbox} 中没有任何报送工作簿{extra}；"
            "请把各分公司的报送文件（.xlsx）放入该文件夹（可含子文件夹）后重新合并"
        )
    return found


def _register_paths(register: Path | None) -> tuple[Path, ...]:
    """The register, its lock files, cache and history folder (skipped inside the inbox)."""
    if register is None:
        return ()
    reg = register.resolve()
    return (
        reg,
        lock_path(reg),
        lock_path(reg).with_name(reg.name + ".lock.json"),
        cache_path(reg),
        reg.parent / HISTORY_DIR,
    )


def _skip_reason(path: Path, rel: Path, own: tuple[Path, ...]) -> str | None:
    if any(part.startswith(".") for part in rel.parts):
        return "隐藏文件或隐藏文件夹中的文件，未读取"
    if path.name.startswith(OWNER_PREFIX):
        try:
            small = path.stat().st_size < OWNER_MAX_BYTES
        except OSError:
            small = True
        if small:
            return "Excel 打开工作簿时生成的临时锁文件（~$），未读取"
    if own:
        resolved = path.resolve()
        if resolved in own[:-1] or own[-1] in resolved.parents:
            return "集团大客户名录本身或其历史版本、锁文件，未读取"
    return None


def branch_of_name(name: str, branches: tuple[str, ...]) -> str | None:
    """The known branch whose name the file's relative path contains (the longest), if any."""
    hits = [b for b in branches if b and b in name]
    return max(hits, key=len) if hits else None
