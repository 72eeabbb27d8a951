"""One merge at a time, and a register that is replaced whole or not at all.

- A lock file `<register>.lock` beside the register (flock; filelock off POSIX), removed
  on release; a JSON sidecar `<register>.lock.json` says who holds it (host, pid) and since
  when. A record of another host blocks the merge until someone removes it.
- The new register is written in a private temporary folder beside the register (kam.fs),
  flushed and fsynced, then moved over the old one with os.replace (atomic on one file
  system); it keeps the old register's mode and group.
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
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from kam.errors import LockHeldError, RegisterWriteError
from kam.fs import private_dir, set_mode_like, sweep, umask_mode

HISTORY_DIR = "history"
NEW_SUFFIX = ".新"


def lock_path(register: Path) -> Path:
    return register.with_name(register.name + ".lock")


def _owner_path(register: Path) -> Path:
    return register.with_name(register.name + ".lock.json")


@contextlib.contextmanager
def register_lock(register: Path, swept: list[Path] | None = None) -> Iterator[None]:
    """Hold the register's lock for the block; raise LockHeldError naming the holder.

    The lock file is removed again when the block ends. A lock left by a dead process of
    this host is taken over; one recorded by another host is reported (a lock across a
    network share cannot be trusted to show it is still held). Temporary folders of an
    interrupted earlier write are swept once the lock is held; `swept` receives them.
    """
    register.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(register)
    with _exclusive(path, register):
        holder = held_by(register)
        if holder is not None and not _stale(holder):
            raise LockHeldError(_held_message(register))
        owner = _owner_path(register)
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": dt.datetime.now().isoformat(timespec="seconds"),
        }
        with contextlib.suppress(FileNotFoundError):
            owner.unlink()  # it may belong to another account: replace, never rewrite
        try:
            owner.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
            gone = sweep(register)
            if swept is not None:
                swept.extend(gone)
            yield
        finally:
            with contextlib.suppress(OSError):
                owner.unlink()


@contextlib.contextmanager
def _exclusive(path: Path, register: Path) -> Iterator[None]:
    """The OS lock on `path` (flock on POSIX, filelock elsewhere), removed on release."""
    if os.name != "posix":
        lock = FileLock(str(path), timeout=0)  # deletes its file on release on Windows
        try:
            lock.acquire()
        except Timeout as exc:
            raise LockHeldError(_held_message(register)) from exc
        try:
            yield
        finally:
            lock.release()
        return
    import fcntl

    while True:
        try:  # read-only is enough for flock: a stale lock of another account still works
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, umask_mode())
        except PermissionError as exc:
            if not path.exists():  # the folder refuses new files: say so, naming it
                raise PermissionError(exc.errno, exc.strerror, str(register.parent)) from exc
            try:
                fd = os.open(path, os.O_RDONLY)
            except PermissionError:  # another account's lock file that we may not open
                _remove_dead_lock(path, register)
                continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise LockHeldError(_held_message(register)) from exc
        try:  # the file we locked may have been removed by the holder we waited on
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _remove_dead_lock(path: Path, register: Path) -> None:
    """Remove a lock file we cannot open when its recorded holder is gone; else report it."""
    holder = held_by(register)
    unknown = holder is None and _owner_path(register).exists()  # a record we may not read
    if unknown or (holder is not None and not (_stale(holder) and not _alive(holder.get("pid")))):
        raise LockHeldError(_held_message(register))
    path.unlink()  # needs only the folder's write permission


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another account
    return True


def _stale(holder: dict[str, object]) -> bool:
    """A recorded holder we may take over: one of this host (we hold the OS lock, so it is
    gone). The record of another host stands: its lock may not reach us over a share."""
    return holder.get("host") == socket.gethostname()


def _held_message(register: Path) -> str:
    try:
        info = json.loads(_owner_path(register).read_text(encoding="utf-8"))
        who = (
            f"{info.get('host', '?')}（进程 {info.get('pid', '?')}）自 {info.get('since', '?')} 起"
        )
    except (OSError, ValueError):
        who = "另一个进程"
    return (
        f"名录 {register} 正在被 {who}合并，请等待其完成后重试"
        f"（若确认无人在合并，可删除锁文件 {lock_path(register)} 和 {_owner_path(register).name}）"
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

    Every temporary file lives in one private folder beside the register, removed on every
    exit path; an interruption before the final os.replace leaves the old register as it
    was. The new register keeps the old one's mode and group (a first one: the umask's).
    """
    try:
        return _write_atomically(register, write, keep_history)
    except OSError as exc:
        if exc.filename is None and not isinstance(exc, RegisterWriteError):  # name the file
            raise type(exc)(exc.errno, exc.strerror, str(register)) from exc
        raise


def _write_atomically(register: Path, write: Callable[[Path], None], keep_history: int) -> Path:
    with private_dir(register) as work:
        tmp = work / register.name
        write(tmp)
        _fsync(tmp)
        set_mode_like(tmp, register)
        if register.exists():
            backup(register, keep_history, work)
        try:
            os.replace(tmp, register)
        except PermissionError as exc:
            kept = new_copy_path(register)
            try:
                os.replace(tmp, kept)
            except OSError:
                raise exc from None
            raise RegisterWriteError(
                f"无法替换名录 {register}（文件可能正在 Excel 中打开，或属于另一账户而本账户"
                f"无权替换）。新名录已另存为 {kept.name}：请关闭 Excel 中的名录（或请文件所有者"
                f"处理）后，用它替换原文件，或重新运行合并"
            ) from exc
        _fsync_dir(register.parent)
    return register


def backup(register: Path, keep: int, work: Path | None = None) -> Path:
    """Copy the register into history/ with a timestamp; keep only the newest `keep`.

    The copy keeps the register's mode (copy2); history/ itself follows the umask.
    """
    hist = register.parent / HISTORY_DIR
    hist.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = hist / f"{register.stem}.{stamp}{register.suffix}"
    with contextlib.ExitStack() as stack:  # a copy cut short by a full disk is never left
        folder = work or stack.enter_context(private_dir(register))
        part = folder / target.name
        shutil.copy2(register, part)
        set_mode_like(part, register)
        os.replace(part, target)
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
