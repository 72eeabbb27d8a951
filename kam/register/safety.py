"""One merge at a time, and a register that is replaced whole or not at all.

- A lock file `<register>.lock` beside the register (filelock); a JSON sidecar
  `<register>.lock.json` says who holds it (host, pid) and since when.
- The new register is written to a temporary file in the same folder, flushed and
  fsynced, then moved over the old one with os.replace (atomic on one file system).
- The old register is first copied into `history/` (timestamped; the last N are kept).
- When the replace is refused (the register is open in Excel on Windows), the new
  register is kept as `<name>.新.xlsx` and RegisterWriteError says what to do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from kam.errors import LockHeldError, RegisterWriteError

HISTORY_DIR = "history"
NEW_SUFFIX = ".新"


def lock_path(register: Path) -> Path:
    return register.with_name(register.name + ".lock")


def _owner_path(register: Path) -> Path:
    return register.with_name(register.name + ".lock.json")


@contextlib.contextmanager
def register_lock(register: Path) -> Iterator[None]:
    """Hold the register's lock for the block; raise LockHeldError naming the holder."""
    register.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(register)), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockHeldError(_held_message(register)) from exc
    owner = _owner_path(register)
    try:
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": dt.datetime.now().isoformat(timespec="seconds"),
        }
        owner.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()


def _held_message(register: Path) -> str:
    try:
        info = json.loads(_owner_path(register).read_text(encoding="utf-8"))
        who = (
            f"{info.get('host', '?')}（进程 {info.get('pid', '?')}）自 {info.get('since', '?')} 起"
        )
    except (OSError, ValueError):
        who = "另一个进程"
    return (
        f"名录 {register.name} 正在被 {who}合并，请等待其完成后重试"
        f"（若确认无人在合并，可删除锁文件 {lock_path(register).name}）"
    )


def held_by(register: Path) -> dict[str, object] | None:
    """The holder recorded in the sidecar (host, pid, since), or None."""
    try:
        return json.loads(_owner_path(register).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def new_copy_path(register: Path) -> Path:
    """Where the new register is kept when it cannot replace the old one."""
    return register.with_name(register.stem + NEW_SUFFIX + register.suffix)


def write_atomically(register: Path, write: Callable[[Path], None], keep_history: int) -> Path:
    """Call `write(tmp)` and move the result over `register`; the old one goes to history/.

    An interruption at any point before the final os.replace leaves the old register as it
    was (only a temporary file is left behind, cleaned up here when we still can).
    """
    folder = register.parent
    fd, name = tempfile.mkstemp(prefix=f".{register.stem}.", suffix=".tmp.xlsx", dir=folder)
    os.close(fd)
    tmp = Path(name)
    kept: Path | None = None
    try:
        write(tmp)
        _fsync(tmp)
        if register.exists():
            backup(register, keep_history)
        try:
            os.replace(tmp, register)
        except PermissionError as exc:
            kept = new_copy_path(register)
            try:
                os.replace(tmp, kept)
            except OSError:
                kept = tmp  # at least the temporary file still holds the new register
            raise RegisterWriteError(
                f"无法替换名录 {register}（文件可能正在 Excel 中打开）。新名录已另存为 "
                f"{kept.name}：请关闭 Excel 中的名录后，用它替换原文件，或重新运行合并"
            ) from exc
        _fsync_dir(folder)
    finally:
        if kept != tmp and tmp.exists():
            with contextlib.suppress(OSError):
                tmp.unlink()
    return register


def backup(register: Path, keep: int) -> Path:
    """Copy the register into history/ with a timestamp; keep only the newest `keep`."""
    hist = register.parent / HISTORY_DIR
    hist.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = hist / f"{register.stem}.{stamp}{register.suffix}"
    shutil.copy2(register, target)
    olds = sorted(hist.glob(f"{register.stem}.*{register.suffix}"))
    for old in olds[: max(0, len(olds) - max(keep, 1))]:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the OS allows opening a folder (not on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
