"""Install kam.xlam with xlwings on Windows / macOS, and check an installation (doctor).

Never imports xlwings: the copy into Excel's startup folder is done by xlwings' own CLI
(`xlwings addin install`, which asks Excel where that folder is) in a child process
(addin/xlwings_step.py), and the user config file is written here in xlwings' format
("KEY","VALUE" per line). xlwings exits 0 even when the copy failed, so each install is
judged by the file it left in Excel's startup folder.
"""

from __future__ import annotations

import importlib.util
import locale
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kam.errors import KamError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UDF_MODULE = "addin.udfs"
MACRO_MODULES = (
    "macros.validate",
    "macros.clear_marks",
    "macros.compute_tiers",
    "macros.merge",
    "macros.risk_marks",
    "macros.new_template",
)
MIN_PYTHON = (3, 11)
TRUST_HINT = (
    "一次性设置：Excel → 文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置，"
    "勾选“信任对 VBA 工程对象模型的访问”（导入工作表函数需要），然后重启 Excel。"
)
_CONF_LINE = re.compile(r'^"([^"]*)","([^"]*)"\s*$')


class DesktopExcelRequiredError(KamError, OSError):
    """The add-in needs desktop Excel (Windows or macOS); this machine has none."""


class AddinInstallError(KamError, RuntimeError):
    """A step of the installation failed; the message says which and what to do."""


@dataclass(frozen=True)
class InstallSettings:
    """Where things are: the defaults are this machine's; tests pass their own."""

    platform: str = sys.platform
    home: Path = field(default_factory=Path.home)
    python: Path = Path(sys.executable)
    project_root: Path = PROJECT_ROOT
    addin_dir: Path | None = None  # where kam.xlam is built; home/.kam/addin by default

    @property
    def desktop_excel(self) -> bool:
        return self.platform.startswith(("win", "darwin"))

    @property
    def config_file(self) -> Path:
        """The xlwings user config (the same paths xlwings' VBA reads)."""
        if self.platform.startswith("darwin"):
            return self.home / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
        return self.home / ".xlwings" / "xlwings.conf"

    @property
    def build_dir(self) -> Path:
        return self.addin_dir or self.home / ".kam" / "addin"

    @property
    def interpreter_key(self) -> str:
        return "INTERPRETER_MAC" if self.platform.startswith("darwin") else "INTERPRETER_WIN"


class Check(NamedTuple):
    """One row of `kam addin doctor`: what was checked, whether it is fine, how to fix it."""

    check: str
    ok: bool
    fix: str


def config_encoding(platform: str) -> str:
    """How xlwings reads xlwings.conf: its VBA (Open ... For Input) and its Python (open()
    without an encoding) both use the ANSI code page on Windows (GBK on Chinese Windows)."""
    return locale.getpreferredencoding(False) if platform.startswith("win") else "utf-8"


def read_config(path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """xlwings.conf as {KEY (upper case): value}; missing file -> {}."""
    if not path.is_file():
        return {}
    config = {}
    for line in path.read_text(encoding=encoding, errors="replace").splitlines():
        m = _CONF_LINE.match(line.strip())
        if m:
            config[m.group(1).upper()] = m.group(2)
    return config


def wanted_config(settings: InstallSettings) -> dict[str, str]:
    """The keys kam needs in xlwings.conf."""
    return {
        settings.interpreter_key: str(settings.python),
        "PYTHONPATH": str(settings.project_root),
        "UDF MODULES": UDF_MODULE,
    }


def write_config(settings: InstallSettings) -> Path:
    """Set kam's keys in xlwings.conf, keeping every other key the user has."""
    path = settings.config_file
    encoding = config_encoding(settings.platform)
    config = {**read_config(path, encoding), **wanted_config(settings)}
    text = "".join(f'"{k}","{v}"\n' for k, v in config.items())
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise AddinInstallError(
            f"路径中的字符“{exc.object[exc.start : exc.end]}”无法写入 xlwings 配置"
            f"（系统编码 {encoding}）："
            "请把 Python 和本仓库放在只含英文字母和数字的路径下（例如 C:\\kam）后重新安装"
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def linux_refusal() -> DesktopExcelRequiredError:
    return DesktopExcelRequiredError(
        "本机没有桌面版 Excel（加载项只能装在 Windows 或 macOS 的 Excel 上）。"
        "在本机可用命令行完成同样的工作：kam validate（校验本簿）、kam tier（计算等级）、"
        "kam merge（合并报送）、kam risk（风险标记）、kam template（新建模板）。"
    )


STEP_SCRIPT = Path(__file__).with_name("xlwings_step.py")
_DIR_LINE = "KAM_ADDIN_DIR="


def _xlwings_addin_install(settings: InstallSettings, addin: Path | None = None) -> Path:
    """Install xlwings' add-in (or the one at addin) into Excel's startup folder; its path.

    Success is judged by the file in that folder, not by the exit code: xlwings prints
    its errors and exits 0.
    """
    extra = ["--file", str(addin)] if addin else []
    done = subprocess.run(
        [str(settings.python), str(STEP_SCRIPT), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    folder = next((line[len(_DIR_LINE) :] for line in lines if line.startswith(_DIR_LINE)), "")
    said = [line for line in lines if not line.startswith(_DIR_LINE)]
    target = Path(folder) / (addin.name if addin else "xlwings.xlam") if folder else None
    copied = target is not None and target.is_file()
    if copied and addin is not None:
        copied = target.stat().st_size == addin.stat().st_size
    succeeded = any("Successfully installed" in line for line in said)
    if done.returncode == 0 and succeeded and copied and target is not None:
        return target
    why = (said or done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    if done.returncode == 0 and target is not None and not copied:
        why = f"{why}；{target} 未找到或不完整"
    raise AddinInstallError(
        f"xlwings 安装{'大客户管理' if addin else ' xlwings '}加载项失败（{why}）。"
        "请先关闭所有 Excel 窗口再重试；如仍失败，运行 kam addin doctor 查看原因。"
    )


def install(settings: InstallSettings | None = None) -> list[str]:
    """Install xlwings' add-in and kam.xlam and write the config; the lines to show."""
    settings = settings or InstallSettings()
    if not settings.desktop_excel:
        raise linux_refusal()
    from addin.build import build_addin

    addin = build_addin(settings.build_dir)
    xlwings_target = _xlwings_addin_install(settings)
    kam_target = _xlwings_addin_install(settings, addin)
    config = write_config(settings)
    return [
        f"已安装 xlwings 加载项（{xlwings_target}）与大客户管理加载项（{kam_target}）。",
        f"已写入 xlwings 配置：{config}（解释器、PYTHONPATH、UDF Modules = {UDF_MODULE}）。",
        TRUST_HINT,
        "重启 Excel 后功能区出现“大客户管理”选项卡；如有问题请运行 kam addin doctor。",
    ]


def _importable(module: str) -> bool:
    # find_spec imports only the parent packages (addin/, macros/ have empty __init__),
    # so this never starts xlwings.
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def doctor(settings: InstallSettings | None = None) -> list[Check]:
    """Check the interpreter, add-in files, config and UDF module; one row per check."""
    settings = settings or InstallSettings()
    config = read_config(settings.config_file, config_encoding(settings.platform))
    rows = [
        Check(
            "桌面版 Excel（Windows / macOS）",
            settings.desktop_excel,
            "" if settings.desktop_excel else str(linux_refusal()),
        ),
        Check(
            f"Python 版本 ≥ {MIN_PYTHON[0]}.{MIN_PYTHON[1]}",
            sys.version_info[:2] >= MIN_PYTHON,
            f"请安装 Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} 或更新版本后重新安装 kam。",
        ),
        Check(
            "xlwings 已安装",
            _importable("xlwings"),
            "请运行：pip install xlwings，然后运行 kam addin install。",
        ),
        Check(
            f"工作表函数模块 {UDF_MODULE}",
            _importable(UDF_MODULE),
            f"找不到 {UDF_MODULE}：请在 kam 源码目录运行 pip install -e .",
        ),
        Check(
            "按钮宏（macros/）",
            all(_importable(m) for m in MACRO_MODULES),
            "macros/ 不完整：请重新获取 kam 源码并运行 pip install -e .",
        ),
        Check(
            "ms-ovba（构建加载项）",
            _importable("ms_ovba"),
            "请运行：pip install ms-ovba==0.0.1",
        ),
        Check(
            f"xlwings 配置文件 {settings.config_file}",
            settings.config_file.is_file(),
            "请运行 kam addin install 生成配置。",
        ),
    ]
    for key, value in wanted_config(settings).items():
        have = config.get(key)
        rows.append(
            Check(
                f"配置项 {key} = {value}",
                have == value,
                f"当前为“{have or '未设置'}”：请运行 kam addin install 重写配置。",
            )
        )
    built = settings.build_dir / "kam.xlam"
    rows.append(Check(f"加载项文件 {built}", built.is_file(), "请运行 kam addin install。"))
    return rows
