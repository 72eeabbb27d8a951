"""Writing files on a shared folder: a private temporary folder, modes, and debris sweeping.

Every temporary file of a write lives in one private folder (0700) beside its target, so
the final os.replace stays on one file system (atomic) and a failure at any point leaves
only that folder, which the `with` block removes and the next locked run sweeps after a
kill -9. A new file gets the mode the umask allows (mkstemp would make it 0600); a file
that replaces another keeps the old one's mode and, where the process may set it, group.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TMP_PREFIX = ".kam-tmp."
# What kam before the private folder left beside a register (mkstemp names: 8 characters).
_LEGACY = re.compile(r"^(tmp[a-z0-9_]{8}\.rows\.xml|tmp[a-z0-9_]{8}\.xlsx)$")


def umask_mode() -> int:
    """The mode a new regular file gets under the process umask (0666 & ~umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def tmp_prefix(target: Path) -> str:
    return f"{TMP_PREFIX}{target.name}."


@contextlib.contextmanager
def private_dir(target: Path) -> Iterator[Path]:
    """A fresh 0700 folder beside `target` for every temporary file of one write."""
    folder = Path(tempfile.mkdtemp(prefix=tmp_prefix(target), dir=target.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep(target: Path) -> list[Path]:
    """Remove the temporary folders (and older kam's loose temp files) an interrupted write
    of `target` left beside it; call it only while holding `target`'s lock. Returns them."""
    gone: list[Path] = []
    stem = target.stem
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return gone
    for entry in entries:
        name = entry.name
        ours = name.startswith(tmp_prefix(target)) and entry.is_dir() and not entry.is_symlink()
        legacy = _LEGACY.match(name) or (
            name.startswith(f".{stem}.") and name.endswith(".tmp.xlsx")
        )
        if ours:
            shutil.rmtree(entry, ignore_errors=True)
        elif legacy and entry.is_file() and not entry.is_symlink():
            with contextlib.suppress(OSError):
                entry.unlink()
        else:
            continue
        if not entry.exists():
            gone.append(entry)
    return gone


def set_mode_like(path: Path, like: Path | None) -> None:
    """Give `path` the mode (and group, where allowed) of `like`, or the umask's mode."""
    try:
        old = os.stat(like) if like is not None else None
    except FileNotFoundError:
        old = None
    if old is None:
        os.chmod(path, umask_mode())
        return
    if hasattr(os, "chown") and old.st_gid != os.stat(path).st_gid:
        with contextlib.suppress(OSError):  # only a member of the group (or root) may
            os.chown(path, -1, old.st_gid)
    os.chmod(path, stat.S_IMODE(old.st_mode))


def regular_file(path: Path) -> bool:
    """True for a regular file (following links); False for folders, FIFOs, devices."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@dataclass(frozen=True)
class Cause:
    """An OS error in words: a stable code, the cause (Chinese, English) and what to do."""

    code: str
    zh: str
    en: str
    advice: str
    advice_en: str


_CAUSES: dict[int, Cause] = {
    errno.EACCES: Cause(
        "permission_denied",
        "当前账户没有权限",
        "permission denied",
        "请让文件夹或文件的所有者为当前账户开放读写权限，或换用有权限的账户运行",
        "ask the owner of the folder or file to grant this account access, or run as one",
    ),
    errno.ENOENT: Cause(
        "not_found",
        "文件或文件夹不存在",
        "no such file or folder",
        "请检查路径是否正确、共享盘是否已连接",
        "check the path and that the shared drive is connected",
    ),
    errno.EROFS: Cause(
        "read_only",
        "所在文件系统为只读",
        "the file system is read-only",
        "请把名录放在可写的文件夹，或请管理员以可写方式挂载共享盘",
        "keep the file in a writable folder, or have the share mounted writable",
    ),
    errno.ENOSPC: Cause(
        "disk_full",
        "磁盘空间已满",
        "the disk is full",
        "请清理磁盘或换到空间充足的位置后重试（原文件未改动）",
        "free some space or use another location, then retry (the old file is unchanged)",
    ),
    errno.EISDIR: Cause(
        "is_a_directory",
        "这是一个文件夹而不是文件",
        "it is a folder, not a file",
        "请指定其中的工作簿文件",
        "name a workbook file inside it",
    ),
    errno.ENOTDIR: Cause(
        "not_a_directory",
        "路径中的某一级不是文件夹",
        "part of the path is not a folder",
        "请检查路径是否正确",
        "check the path",
    ),
    errno.EBUSY: Cause(
        "busy",
        "文件正被其他程序占用",
        "the file is in use",
        "请关闭占用它的程序（如 Excel）后重试",
        "close the program using it (e.g. Excel) and retry",
    ),
    errno.ENAMETOOLONG: Cause(
        "name_too_long",
        "路径或文件名过长",
        "the path or file name is too long",
        "请缩短文件夹或文件名",
        "shorten the folder or file name",
    ),
    errno.EIO: Cause(
        "io_error",
        "磁盘或网络读写出错",
        "an input/output error",
        "请检查磁盘或网络连接后重试",
        "check the disk or network connection and retry",
    ),
}
_SAME = {
    errno.EPERM: errno.EACCES,
    getattr(errno, "EDQUOT", -2): errno.ENOSPC,
    errno.EFBIG: errno.ENOSPC,
    errno.ETXTBSY: errno.EBUSY,
    errno.ENXIO: errno.ENOENT,
}
_OTHER = Cause(
    "os_error",
    "操作系统拒绝了该操作",
    "the operating system refused the operation",
    "请检查路径、权限与磁盘空间后重试",
    "check the path, permissions and free space, then retry",
)


_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def _rust_errno(exc: OSError) -> int:
    """The errno in a Rust library's io error (calamine: "... (os error 2)"), or -1."""
    found = _RUST_OS_ERROR.search(str(exc))
    return int(found.group(1)) if found else -1


def cause_zh(exc: BaseException, otherwise: str) -> str:
    """Why `exc` happened, in Chinese: an OS error's cause and what to do, else `otherwise`
    (never the OS's or a library's English words)."""
    if isinstance(exc, OSError):
        cause = os_cause(exc)
        return f"{cause.zh}，{cause.advice}"
    return otherwise


def os_cause(exc: OSError) -> Cause:
    """The cause of an OS error in our own words (never the OS's English text)."""
    number = exc.errno if isinstance(exc.errno, int) else _rust_errno(exc)
    if isinstance(exc, PermissionError) and number not in _CAUSES:
        number = errno.EACCES
    return _CAUSES.get(_SAME.get(number, number), _OTHER)
