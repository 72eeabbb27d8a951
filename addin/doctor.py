"""`kam addin doctor`: what breaks the add-in in the field, each with its fix in Chinese.

Checks the Python side (interpreter, xlwings, the function and button modules), that
kam.xlam is in Excel's startup folder, that the xlwings inside it matches the installed
xlwings (its DLL name carries the version), kam's per-user config, an earlier kam's keys
left in the global xlwings.conf, Excel's Disabled Items list (Windows registry), and a
kam.conf file or sheet beside a workbook, which xlwings reads before ours.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

from addin.install import (
    PROJECT_NAME,
    DesktopExcelRequiredError,
    InstallSettings,
    legacy_entries,
    read_config,
)

MIN_PYTHON = (3, 11)
ADDIN_NAME = "kam.xlam"
CONF_NAME = f"{PROJECT_NAME}.conf"
UDF_MODULE = "addin.udfs"
MACRO_MODULES = tuple(
    f"macros.{job}"
    for job in ("validate", "clear_marks", "compute_tiers", "merge", "risk_marks", "new_template")
)
OFFICE_VERSIONS = ("16.0", "15.0", "14.0")  # 2016 and later (365), 2013, 2010
DISABLED_ITEMS = r"Software\Microsoft\Office\{}\Excel\Resiliency\DisabledItems"
_VERSION = re.compile(rb'XLWINGS_VERSION As String = "([^"]+)"')
ENABLE_HINT = (
    "Excel → 文件 → 选项 → 加载项 → 下方“管理”选“禁用项目” → 转到，"
    "选中 kam.xlam 点“启用”，然后重启 Excel。"
)


class Check(NamedTuple):
    """One row of `kam addin doctor`: what was checked, whether it is fine, how to fix it."""

    check: str
    ok: bool
    fix: str


def doctor_refusal() -> DesktopExcelRequiredError:
    return DesktopExcelRequiredError(
        "kam addin doctor 检查的是 Windows 或 macOS 上的 Excel 与加载项；本机没有桌面版 Excel。"
        "在本机请直接用命令行：kam validate、kam tier、kam merge、kam risk、kam template。"
    )


def _importable(module: str) -> bool:
    # find_spec imports only the parent packages (addin/, macros/ have empty __init__),
    # so this never starts xlwings.
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def addin_xlwings_version(xlam: Path) -> str | None:
    """The xlwings version compiled into an add-in's xlwings module (its DLL name)."""
    import olefile

    from addin import ovba

    try:
        with zipfile.ZipFile(xlam) as z, olefile.OleFileIO(z.read("xl/vbaProject.bin")) as ole:
            recs = ovba.records(ovba.decompress(ole.openstream("VBA/dir").read()))
            (entry,) = [m for m in ovba.modules(recs) if m.name == "xlwings"]
            source = ovba.module_source(ole.openstream(f"VBA/{entry.stream}").read(), entry.offset)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    m = _VERSION.search(source)
    return m.group(1).decode("ascii") if m else None


def disabled_items(registry: Any) -> list[str]:
    """The paths in Excel's Disabled Items list (HKCU ...\\Resiliency\\DisabledItems).

    Each value is a binary record whose path is UTF-16; decoding the whole record is
    enough to find an add-in's file name in it."""
    found = []
    for version in OFFICE_VERSIONS:
        try:
            key = registry.OpenKey(registry.HKEY_CURRENT_USER, DISABLED_ITEMS.format(version))
        except OSError:
            continue
        with key:
            index = 0
            while True:
                try:
                    _name, data, _kind = registry.EnumValue(key, index)
                except OSError:
                    break
                if isinstance(data, bytes):
                    found.append(data.decode("utf-16-le", errors="ignore"))
                index += 1
    return found


def _winreg(settings: InstallSettings) -> Any:
    if settings.registry is not None:
        return settings.registry
    import winreg  # Windows only: doctor reaches this only when the platform is Windows

    return winreg


def _expanded(value: str, settings: InstallSettings) -> Path:
    for name, base in settings.environ.items():
        value = value.replace(f"%{name}%", base)
    return Path(value.replace("$HOME", str(settings.home)))


def _overrides(workbook: Path) -> list[Check]:
    """A kam.conf file beside the workbook, or a kam.conf sheet in it, wins over ours."""
    beside = workbook.parent / CONF_NAME
    rows = [
        Check(
            f"{workbook.name} 旁没有 {CONF_NAME} 文件",
            not beside.is_file(),
            f"{beside} 会覆盖加载项的设置（xlwings 先读它）：不需要的话请删除或改名。",
        )
    ]
    sheets: list[str] = []
    if workbook.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            sheets = openpyxl.load_workbook(workbook, read_only=True).sheetnames
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            sheets = []
    rows.append(
        Check(
            f"{workbook.name} 中没有“{CONF_NAME}”工作表",
            CONF_NAME not in sheets,
            f"工作簿中的“{CONF_NAME}”工作表会覆盖加载项的设置：请删除该工作表或改名后保存。",
        )
    )
    return rows


def doctor(settings: InstallSettings | None = None, workbook: Path | None = None) -> list[Check]:
    """Every check, one row each; raises DesktopExcelRequiredError off Windows / macOS."""
    settings = settings or InstallSettings()
    if not settings.desktop_excel:
        raise doctor_refusal()
    installed = settings.excel_startup_dir / ADDIN_NAME
    config = read_config(settings.config_file, settings.config_encoding)
    rows = [
        Check(
            f"Python 版本 ≥ {MIN_PYTHON[0]}.{MIN_PYTHON[1]}",
            sys.version_info[:2] >= MIN_PYTHON,
            f"请安装 Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} 或更新版本后重新安装 kam。",
        ),
        Check(
            "xlwings 已安装",
            _importable("xlwings"),
            'pip install -e ".[excel]"，然后 kam addin install。',
        ),
        Check(
            f"工作表函数模块 {UDF_MODULE} 与按钮宏（macros/）",
            _importable(UDF_MODULE) and all(_importable(m) for m in MACRO_MODULES),
            "kam 源码不完整：请重新获取 kam 并在其目录运行 pip install -e .",
        ),
        Check(
            f"{ADDIN_NAME} 在 Excel 启动文件夹（{settings.excel_startup_dir}）",
            installed.is_file(),
            "请关闭 Excel 后运行 kam addin install（只生成在构建目录的加载项不会被 Excel 加载）。",
        ),
    ]
    if installed.is_file() and _importable("xlwings"):
        inside = addin_xlwings_version(installed)
        have = importlib.metadata.version("xlwings")
        rows.append(
            Check(
                f"加载项中的 xlwings DLL 版本与已安装的 xlwings 一致（{inside} / {have}）",
                inside == have,
                f"加载项按 xlwings {inside} 构建，而已安装的是 {have}，Excel 会找不到 DLL："
                "请关闭 Excel 后运行 kam addin install 重新构建并安装。",
            )
        )
    interpreter = config.get(settings.interpreter_key, "")
    rows += [
        Check(
            f"kam 配置 {settings.config_file} 中的解释器存在",
            bool(interpreter) and _expanded(interpreter, settings).is_file(),
            f"当前为“{interpreter or '未设置'}”：请用要使用的 Python 运行 kam addin install。",
        ),
        Check(
            "kam 配置中的 PYTHONPATH 指向 kam 源码",
            (_expanded(config.get("PYTHONPATH", ""), settings) / "macros").is_dir(),
            f"当前为“{config.get('PYTHONPATH') or '未设置'}”："
            "请在 kam 源码目录运行 kam addin install。",
        ),
        Check(
            f"xlwings 全局配置 {settings.xlwings_config_file} 中没有旧版 kam 的设置",
            not legacy_entries(settings),
            "旧版 kam 改写了所有 xlwings 工作簿的设置："
            "运行 kam addin install 会移走它们并备份原文件。",
        ),
    ]
    if settings.windows:
        disabled = [
            item for item in disabled_items(_winreg(settings)) if ADDIN_NAME in item.lower()
        ]
        rows.append(Check("kam.xlam 不在 Excel 的“禁用项目”中", not disabled, ENABLE_HINT))
    if workbook is not None:
        rows += _overrides(Path(workbook))
    return rows
