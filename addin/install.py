"""Install kam.xlam on Windows / macOS with kam's own configuration, never xlwings' global one.

Never imports xlwings: the copy into Excel's startup folder is done by xlwings' own CLI
(`xlwings addin install --file`, which asks Excel where that folder is) in a child process
(addin/xlwings_step.py). xlwings exits 0 even when the copy failed, so the install is
judged by the file it left in Excel's startup folder.

Configuration: kam.xlam is xlwings' custom add-in with PROJECT_NAME "kam". Its own config
sheet (kam.conf, written by the build) holds what is the same on every machine; the
interpreter and PYTHONPATH go in the per-user file the add-in reads,
%USERPROFILE%\\.kam\\kam.conf (macOS: kam.conf in Excel's sandbox folder). Values are written
with %LOCALAPPDATA% / %USERPROFILE% ($HOME on macOS), which xlwings expands, so they are
ASCII for most installs; the rest is in the ANSI code page xlwings' VBA reads the file in
(`Open ... For Input`), with CRLF line ends on Windows. An earlier kam wrote its settings
into the user's global xlwings.conf; install takes them out again (with a backup).
"""

from __future__ import annotations

import locale
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from kam.errors import KamError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UDF_MODULE = "addin.udfs"
PROJECT_NAME = "kam"
LEGACY_BACKUP_SUFFIX = ".kam-backup"
_CONF_LINE = re.compile(r'^"([^"]*)","([^"]*)"\s*$')
# %LOCALAPPDATA% lies inside %USERPROFILE%: the more specific one is tried first.
WINDOWS_VARIABLES = ("LOCALAPPDATA", "USERPROFILE")


class DesktopExcelRequiredError(KamError, OSError):
    """The add-in needs desktop Excel (Windows or macOS); this machine has none."""


class AddinInstallError(KamError, RuntimeError):
    """A step of the installation failed; the message says which and what to do."""


@dataclass(frozen=True)
class InstallSettings:
    """Where things are and how files are written: the defaults are this machine's; tests
    pass their own (a Chinese user name, a cp936 or UTF-8 locale, a fake registry)."""

    platform: str = sys.platform
    home: Path = field(default_factory=Path.home)
    python: Path = Path(sys.executable)
    project_root: Path = PROJECT_ROOT
    addin_dir: Path | None = None  # where kam.xlam is built; home/.kam/addin by default
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    encoding: str | None = None  # the ANSI code page; locale.getencoding() by default
    startup_dir: Path | None = None  # Excel's startup folder; the per-user default otherwise
    registry: Any = None  # winreg or a stand-in (doctor's Disabled Items check)

    @property
    def windows(self) -> bool:
        return self.platform.startswith("win")

    @property
    def mac(self) -> bool:
        return self.platform.startswith("darwin")

    @property
    def desktop_excel(self) -> bool:
        return self.windows or self.mac

    @property
    def config_file(self) -> Path:
        """kam's per-user config, where the add-in's xlwings module looks for it."""
        if self.mac:
            return self.home / f"Library/Containers/com.microsoft.Excel/Data/{PROJECT_NAME}.conf"
        return self.home / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"

    @property
    def xlwings_config_file(self) -> Path:
        """The user's global xlwings config (only ever cleaned of an earlier kam's keys)."""
        if self.mac:
            return self.home / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
        return self.home / ".xlwings" / "xlwings.conf"

    @property
    def build_dir(self) -> Path:
        return self.addin_dir or self.home / ".kam" / "addin"

    @property
    def excel_startup_dir(self) -> Path:
        """Excel's per-user startup folder (XLSTART), where install puts kam.xlam."""
        if self.startup_dir is not None:
            return self.startup_dir
        if self.mac:
            return (
                self.home / "Library/Group Containers/UBF8T346G9.Office"
                "/User Content.localized/Startup.localized/Excel"
            )
        appdata = self.environ.get("APPDATA")
        base = Path(appdata) if appdata else self.home / "AppData" / "Roaming"
        return base / "Microsoft" / "Excel" / "XLSTART"

    @property
    def interpreter_key(self) -> str:
        return "INTERPRETER_MAC" if self.mac else "INTERPRETER_WIN"

    @property
    def config_encoding(self) -> str:
        if self.encoding:
            return self.encoding
        # What VBA's Open ... For Input reads on Windows: the ANSI code page, which
        # getencoding() reports even under Python's UTF-8 mode (the default from 3.15).
        return locale.getencoding() if self.windows else "utf-8"

    @property
    def newline(self) -> str:
        return "\r\n" if self.windows else "\n"


def with_variables(path: str, settings: InstallSettings) -> str:
    """path with its user folder written as an environment variable xlwings expands."""
    if settings.windows:
        win = PureWindowsPath(path)  # compares case-insensitively, as Windows does
        for name in WINDOWS_VARIABLES:
            base = settings.environ.get(name)
            if base and _under(win, PureWindowsPath(base)):
                rest = win.relative_to(PureWindowsPath(base))
                return f"%{name}%" + ("" if rest == PureWindowsPath(".") else f"\\{rest}")
        return str(win)
    if settings.mac:  # xlwings expands a leading $HOME on macOS
        posix, home = PurePosixPath(path), PurePosixPath(str(settings.home))
        if _under(posix, home):
            rest = posix.relative_to(home)
            return "$HOME" + ("" if rest == PurePosixPath(".") else f"/{rest}")
    return path


def _under(path: PurePath, base: PurePath) -> bool:
    return path == base or base in path.parents


def read_config(path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """An xlwings-format config file as {KEY (upper case): value}; missing file -> {}."""
    if not path.is_file():
        return {}
    config = {}
    for line in path.read_text(encoding=encoding, errors="replace").splitlines():
        m = _CONF_LINE.match(line.strip())
        if m:
            config[m.group(1).upper()] = m.group(2)
    return config


def wanted_config(settings: InstallSettings) -> dict[str, str]:
    """The keys kam's per-user file holds (the rest is in the add-in's kam.conf sheet)."""
    return {
        settings.interpreter_key: with_variables(str(settings.python), settings),
        "PYTHONPATH": with_variables(str(settings.project_root), settings),
    }


def _replace_file(path: Path, data: bytes) -> None:
    """Write path atomically, the previous version kept as path.bak."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_config(settings: InstallSettings) -> Path:
    """Set kam's keys in kam's per-user config file, keeping any other key it holds."""
    path = settings.config_file
    encoding = settings.config_encoding
    config = {**read_config(path, encoding), **wanted_config(settings)}
    text = "".join(f'"{k}","{v}"{settings.newline}' for k, v in config.items())
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise AddinInstallError(
            f"路径中的字符“{exc.object[exc.start : exc.end]}”无法写入 kam 配置"
            f"（系统编码 {encoding}）："
            "请把 Python 和 kam 放在只含英文字母和数字的路径下（例如 C:\\kam）后重新安装"
        ) from exc
    _replace_file(path, data)
    return path


def legacy_entries(settings: InstallSettings) -> dict[str, str]:
    """The keys an earlier kam install wrote into the global xlwings.conf that are still
    there with the values it wrote ({} when that install never ran)."""
    config = read_config(settings.xlwings_config_file, settings.config_encoding)
    if config.get("UDF MODULES") != UDF_MODULE:
        return {}
    written = {
        "UDF MODULES": UDF_MODULE,
        "PYTHONPATH": str(settings.project_root),
        settings.interpreter_key: str(settings.python),
    }
    return {k: v for k, v in written.items() if config.get(k) == v}


def migrate_xlwings_config(settings: InstallSettings) -> str | None:
    """Take an earlier kam's keys out of the global xlwings.conf; what was done, or None."""
    found = legacy_entries(settings)
    if not found:
        return None
    path = settings.xlwings_config_file
    backup = path.with_name(path.name + LEGACY_BACKUP_SUFFIX)
    if not backup.exists():  # the first backup is the state closest to before kam
        shutil.copy2(path, backup)
    raw = path.read_bytes()
    text = raw.decode(settings.config_encoding, errors="replace")
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not ((m := _CONF_LINE.match(line.strip())) and m.group(1).upper() in found)
    ]
    if any(line.strip() for line in kept):
        _replace_file(path, "".join(kept).encode(settings.config_encoding, errors="replace"))
    else:
        path.unlink()  # nothing of the user's own: xlwings goes back to its defaults
    return (
        f"已从 xlwings 全局配置 {path} 移除旧版 kam 写入的 {', '.join(found)}，"
        f"其他 xlwings 工作簿恢复使用 xlwings 的默认值；原文件已备份为 {backup}。"
        "旧版安装覆盖之前的取值未被保存：如你曾为其他 xlwings 工作簿设置过这些项，请重新设置。"
    )


def linux_refusal() -> DesktopExcelRequiredError:
    return DesktopExcelRequiredError(
        "本机没有桌面版 Excel（加载项只能装在 Windows 或 macOS 的 Excel 上）。"
        "在本机可用命令行完成同样的工作：kam validate（校验本簿）、kam tier（计算等级）、"
        "kam merge（合并报送）、kam risk（风险标记）、kam template（新建模板）。"
    )


STEP_SCRIPT = Path(__file__).with_name("xlwings_step.py")
_DIR_LINE = "KAM_ADDIN_DIR="


def _xlwings_addin_install(settings: InstallSettings, addin: Path) -> Path:
    """Copy addin into Excel's startup folder with xlwings' CLI; its path there.

    Success is judged by the file in that folder, not by the exit code: xlwings prints
    its errors and exits 0.
    """
    done = subprocess.run(
        [str(settings.python), str(STEP_SCRIPT), "--file", str(addin)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    folder = next((line[len(_DIR_LINE) :] for line in lines if line.startswith(_DIR_LINE)), "")
    said = [line for line in lines if not line.startswith(_DIR_LINE)]
    target = Path(folder) / addin.name if folder else None
    copied = target is not None and target.is_file()
    if copied and target is not None:
        copied = target.stat().st_size == addin.stat().st_size
    succeeded = any("Successfully installed" in line for line in said)
    if done.returncode == 0 and succeeded and copied and target is not None:
        return target
    why = (said or done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    if done.returncode == 0 and target is not None and not copied:
        why = f"{why}；{target} 未找到或不完整"
    raise AddinInstallError(
        f"xlwings 安装大客户管理加载项失败（{why}）。"
        "请先关闭所有 Excel 窗口再重试；如仍失败，运行 kam addin doctor 查看原因。"
    )


def install(settings: InstallSettings | None = None) -> list[str]:
    """Build kam.xlam, put it in Excel's startup folder, write kam's config; lines to show."""
    settings = settings or InstallSettings()
    if not settings.desktop_excel:
        raise linux_refusal()
    from addin.build import build_addin

    addin = build_addin(settings.build_dir)
    target = _xlwings_addin_install(settings, addin)
    config = write_config(settings)
    lines = [
        f"已安装大客户管理加载项：{target}（内含 xlwings 与四个工作表函数，任何工作簿都可用）。",
        f"已写入 kam 自己的配置：{config}（解释器、PYTHONPATH）；xlwings 的全局配置未被改动。",
    ]
    migrated = migrate_xlwings_config(settings)
    if migrated:
        lines.append(migrated)
    lines.append(
        "下一步：运行 kam addin selftest，它会打开 Excel 逐项检查六个按钮和四个函数；"
        "有问题请运行 kam addin doctor。"
    )
    return lines
