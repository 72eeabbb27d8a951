"""`kam addin build | install | selftest | doctor` (addin/ is imported only inside each command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kam.cli import render
from kam.cli.zh import ChineseCommand

addin_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Excel 加载项：构建 kam.xlam、安装到 Excel、在 Excel 中自检、检查安装。",
)


@addin_app.command(cls=ChineseCommand)
def build(
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("dist"),
) -> None:
    """从 xlwings 自带的加载项模板构建 kam.xlam（无需 Excel）。"""
    from addin.build import build_addin

    render.out.print(f"已生成加载项：{build_addin(out)}")


@addin_app.command(cls=ChineseCommand)
def install() -> None:
    """在 Windows / macOS 上安装 kam.xlam，并写入 kam 自己的配置（不改动 xlwings 全局配置）。"""
    from addin.install import install as run_install

    for line in run_install():
        render.out.print(line)


@addin_app.command(cls=ChineseCommand)
def selftest(
    addin: Annotated[
        Path | None, typer.Option("--addin", help="要检查的 kam.xlam（默认为已安装的那一个）")
    ] = None,
) -> None:
    """在真实的 Excel 中逐一运行六个按钮和四个函数，打印通过/未通过表并保存报告。"""
    import sys

    from addin.install import InstallSettings
    from addin.selftest import SelftestSettings, in_excel, save_report, selftest_refusal

    machine = InstallSettings()
    if not machine.desktop_excel:
        raise selftest_refusal()
    if addin is None:
        installed = machine.excel_startup_dir / "kam.xlam"
        addin = installed if installed.is_file() else machine.build_dir / "kam.xlam"
    if not addin.is_file():
        raise typer.BadParameter(
            f"找不到 {addin}：请先运行 kam addin install", param_hint="--addin"
        )
    settings = SelftestSettings(addin=addin, report_dir=machine.home / ".kam")
    render.out.print(
        "将启动一个新的 Excel 窗口（你已打开的工作簿不受影响，示例文件都在临时文件夹中，"
        "不保存任何工作簿）。每个按钮完成后会弹出结果对话框，请点“确定”继续。"
    )
    steps = in_excel(settings, sys.platform)
    render.simple_table(
        "kam addin selftest",
        ["检查项", "结果", "说明"],
        [(s.name, "通过" if s.ok else "未通过", s.detail) for s in steps],
    )
    render.out.print(f"报告已保存：{save_report(steps, settings)}（寻求支持时请附上此文件）")
    if not all(s.ok for s in steps):
        raise typer.Exit(1)


@addin_app.command(cls=ChineseCommand)
def doctor(
    workbook: Annotated[
        Path | None,
        typer.Argument(help="可选：一个工作簿，检查它旁边或其中的 kam.conf 是否覆盖加载项的设置"),
    ] = None,
) -> None:
    """检查 Excel 启动文件夹、加载项版本、禁用项目、配置与工作表函数模块，并说明如何修复。"""
    from addin.doctor import doctor as run_doctor

    rows = run_doctor(workbook=workbook)
    render.simple_table(
        "kam addin doctor",
        ["检查项", "结果", "如何修复"],
        [(r.check, "通过" if r.ok else "未通过", "" if r.ok else r.fix) for r in rows],
    )
    if not all(r.ok for r in rows):
        raise typer.Exit(1)
