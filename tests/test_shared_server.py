"""A register on a shared server: OS faults end in a Chinese message and exit 2 with nothing
half-written, permissions are kept, the lock goes away, and no temporary file stays behind.

Permission cases run the real `kam` command as `nobody` with the capabilities that let root
ignore file modes dropped; disk-full and read-only cases use a small tmpfs. Both need root.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing as mp
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_merge import branch_file
from test_register_safety import CODES, TODAY

from kam.errors import LockHeldError
from kam.register import MergeSettings, merge, safety

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
needs_root = pytest.mark.skipif(
    not ROOT or shutil.which("setpriv") is None, reason="needs root and setpriv (util-linux)"
)
NAME = "集团大客户名录.xlsx"
CACHE = NAME + ".cache"  # the register's cache (kam.register.store), written with it
NOBODY = [
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown",
    "--inh-caps=-all",
]


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every account may enter (pytest's own tmp folder is root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="kam-shared-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def setup(base: Path) -> tuple[Path, Path]:
    """A register from one branch file, and an inbox with a second branch's file."""
    first, second = base / "in1", base / "in2"
    branch_file(first, "a.xlsx", "华东分公司", CODES[:2])
    branch_file(second, "b.xlsx", "华南分公司", CODES[2:4])
    register = base / "reg" / NAME
    merge(MergeSettings(register=register, inbox=first, today=TODAY))
    for path in (base, first, second, register.parent):
        path.chmod(0o755)
    for path in (*first.iterdir(), *second.iterdir(), register):
        path.chmod(0o644)
    return register, second


@functools.cache
def nobody_runs_kam() -> bool:
    """Whether `nobody` can start this interpreter and import kam (a checkout under a
    private home folder would not let it)."""
    probe = [*NOBODY, sys.executable, "-c", "import kam.cli.app"]
    return subprocess.run(probe, capture_output=True, check=False, timeout=120).returncode == 0


def kam(*args: str, user: bool = False) -> subprocess.CompletedProcess[str]:
    if user and not nobody_runs_kam():
        pytest.skip("the account nobody cannot run this checkout's interpreter")
    env = {**os.environ, "HOME": "/tmp", "COLUMNS": "300", "KAM_LANG": "zh"}
    cmd = [sys.executable, "-m", "kam", *args]
    return subprocess.run(
        [*NOBODY, *cmd] if user else cmd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=180,
        check=False,
    )


def merge_cli(
    register: Path, inbox: Path, *more: str, user: bool = True
) -> subprocess.CompletedProcess[str]:
    args = ("merge", str(inbox), "--register", str(register), "--today", "2026-10-20")
    return kam(*args, *more, user=user)


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def assert_cannot_run(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    text = " ".join((done.stderr + done.stdout).split())
    for word in words:
        assert word in text, text


@needs_root
def test_read_only_register_folder(shared: Path) -> None:
    register, inbox = setup(shared)
    before, names = register.read_bytes(), listing(register.parent)
    done = merge_cli(register, inbox)
    assert_cannot_run(done, str(register.parent), "没有权限", "请")
    assert register.read_bytes() == before and listing(register.parent) == names


@needs_root
def test_json_error_document(shared: Path) -> None:
    register, inbox = setup(shared)
    done = merge_cli(register, inbox, "--json")
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["error"]["code"] == "permission_denied"
    assert str(register.parent) in doc["error"]["message"]


@needs_root
def test_missing_register_folder_that_cannot_be_made(shared: Path) -> None:
    register, inbox = setup(shared)
    done = merge_cli(register.parent / "新建" / NAME, inbox)
    assert_cannot_run(done, str(register.parent), "没有权限")
    assert not (register.parent / "新建").exists()


@needs_root
def test_read_only_history(shared: Path) -> None:
    register, inbox = setup(shared)
    register.parent.chmod(0o777)
    (register.parent / "history").mkdir(mode=0o755)
    before = register.read_bytes()
    done = merge_cli(register, inbox)
    assert_cannot_run(done, "history", "没有权限")
    assert register.read_bytes() == before
    assert listing(register.parent) == {NAME, CACHE, "history"}
    assert listing(register.parent / "history") == set()


@needs_root
def test_stale_lock_file_of_another_account_is_taken_over(shared: Path) -> None:
    register, inbox = setup(shared)
    register.parent.chmod(0o777)
    lock = safety.lock_path(register)
    lock.touch(mode=0o600)  # root's, unreadable to nobody, held by no one
    done = merge_cli(register, inbox)
    assert done.returncode == 0, done.stderr
    assert listing(register.parent) == {NAME, CACHE, "history"}  # the lock file is gone too


def _hold(register: str, ready: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    with safety.register_lock(Path(register)):
        ready.set()
        time.sleep(60)


@needs_root
@pytest.mark.parametrize("private", [False, True], ids=["readable", "mode-0600"])
def test_lock_held_by_another_account(shared: Path, private: bool) -> None:
    register, inbox = setup(shared)
    register.parent.chmod(0o777)
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_hold, args=(str(register), ready))
    child.start()
    try:
        assert ready.wait(30)
        if private:  # the holder's umask was 077: we can open neither its lock nor its record
            safety.lock_path(register).chmod(0o600)
            safety._owner_path(register).chmod(0o600)
        done = merge_cli(register, inbox, "--json")
        assert done.returncode == 2
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "lock_held"
        assert str(child.pid) in error["message"] or private
        assert safety.lock_path(register).exists()  # a live lock is never removed
    finally:
        child.kill()
        child.join()


def test_lock_of_another_host_is_reported(tmp_path: Path) -> None:
    register = tmp_path / NAME
    record = {"host": "hq-server-2", "pid": 4242, "since": "2026-10-20T09:00:00"}
    safety._owner_path(register).write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(LockHeldError, match="hq-server-2"), safety.register_lock(register):
        pass


def test_stale_lock_of_this_host_is_taken_over(tmp_path: Path) -> None:
    register = tmp_path / NAME
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"host": socket.gethostname(), "pid": dead.pid, "since": "2026-10-20T09:00:00"}
    safety._owner_path(register).write_text(json.dumps(record), encoding="utf-8")
    safety.lock_path(register).touch()
    with safety.register_lock(register):
        assert safety.held_by(register)["pid"] == os.getpid()  # type: ignore[index]
    assert list(tmp_path.iterdir()) == []


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=False
    )
    if mounted.returncode:  # a container without CAP_SYS_ADMIN
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@needs_root
def test_disk_full(shared: Path) -> None:
    register, inbox = setup(shared)
    with tmpfs(shared / "fs", "600k") as fs:
        target = fs / NAME
        shutil.copy(register, target)
        free = shutil.disk_usage(fs).free
        (fs / "filler").write_bytes(b"\0" * (free - register.stat().st_size - 8192))
        before = target.read_bytes()
        done = merge_cli(target, inbox, user=False)
        assert_cannot_run(done, str(target), "磁盘空间已满")
        assert target.read_bytes() == before
        assert listing(fs) <= {NAME, "filler", "history"}
        if (fs / "history").exists():
            assert listing(fs / "history") == set()


@needs_root
def test_read_only_file_system(shared: Path) -> None:
    register, inbox = setup(shared)
    with tmpfs(shared / "fs", "4m") as fs:
        target = fs / NAME
        shutil.copy(register, target)
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        done = merge_cli(target, inbox, "--json", user=False)
        assert done.returncode == 2
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "read_only" and str(fs) in error["message"]
        assert listing(fs) == {NAME}


# --- permissions -------------------------------------------------------------------------


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_register_keeps_mode_and_group_history_too(tmp_path: Path) -> None:
    register, inbox = setup(tmp_path)
    register.chmod(0o664)
    group = 65534 if ROOT else os.getegid()  # nogroup: root may set any group
    with contextlib.suppress(PermissionError):
        os.chown(register, -1, group)
    group = register.stat().st_gid
    with umask(0o077):
        result = merge(MergeSettings(register=register, inbox=inbox, today=TODAY))
    assert result.written and mode(register) == 0o664 and register.stat().st_gid == group
    (copy,) = (register.parent / "history").iterdir()
    assert mode(copy) == 0o664
    cache = register.parent / CACHE  # the register's cache is as private as the register
    assert mode(cache) == 0o664 and cache.stat().st_gid == group
    assert listing(register.parent) == {NAME, CACHE, "history"}  # lock and sidecar removed


@pytest.mark.parametrize("mask", [0o002, 0o027])
def test_first_register_follows_umask(tmp_path: Path, mask: int) -> None:
    inbox = tmp_path / "in"
    branch_file(inbox, "a.xlsx", "华东分公司", CODES[:1])
    register = tmp_path / "reg" / NAME
    with umask(mask):
        merge(MergeSettings(register=register, inbox=inbox, today=TODAY))
    assert mode(register) == mode(register.parent / CACHE) == 0o666 & ~mask
    assert listing(register.parent) == {NAME, CACHE}


def test_risk_apply_keeps_mode(tmp_path: Path) -> None:
    register, _ = setup(tmp_path)
    register.chmod(0o640)
    done = kam("risk", str(register), "--apply", "--json")
    assert done.returncode == 0, done.stderr
    assert mode(register) == 0o640
    assert mode(next((register.parent / "history").iterdir())) == 0o640
    assert mode(register.parent / CACHE) == 0o640  # rewritten with the register
    assert listing(register.parent) == {NAME, CACHE, "history"}


def test_annotate_and_template_follow_umask(tmp_path: Path) -> None:
    from kam.annotate import annotate_file
    from kam.cli.app import app

    src = branch_file(tmp_path / "in", "a.xlsx", "华东分公司", CODES[:1])
    out = tmp_path / "out"
    out.mkdir()
    with umask(0o027):
        annotate_file(src, out / "a.标注.xlsx")
        with contextlib.suppress(SystemExit):
            app(["template", "--out", str(out / "tpl")], standalone_mode=True)
    assert mode(out / "a.标注.xlsx") == 0o640
    made = list((out / "tpl").iterdir())
    assert len(made) == 2 and all(mode(p) == 0o640 for p in made)
    assert listing(out) == {"a.标注.xlsx", "tpl"}


@needs_root
def test_inbox_file_this_account_may_not_read(shared: Path) -> None:
    register, inbox = setup(shared)
    register.parent.chmod(0o777)
    secret = next(inbox.iterdir())
    secret.chmod(0o600)  # root's: nobody may not read it
    before = register.read_bytes()
    done = merge_cli(register, inbox)
    assert_cannot_run(done, str(secret), "没有权限")
    assert register.read_bytes() == before and listing(register.parent) == {NAME, CACHE}
    checked = kam("validate", str(secret), user=True)
    text = " ".join((checked.stdout + checked.stderr).split())
    assert checked.returncode == 2 and "当前账户没有权限读取" in text, text
    assert "readable" not in text and "Permission" not in text, text
    assert "Traceback" not in checked.stderr
