"""`kam addin build | install | doctor` (addin/ is imported only inside each command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kam.cli import render

addin_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Excel 加载项：构建 kam.xlam、安装到 Excel、检查安装。",
)


@addin_app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("dist"),
) -> None:
    """从 addin/ 的文本源文件构建 kam.xlam（无需 Excel）。"""
    from addin.build import build_addin

    render.out.print(f"已生成加载项：{build_addin(out)}")


@addin_app.command()
def install() -> None:
    """在 Windows / macOS 上安装 xlwings 加载项与 kam.xlam，并写入 xlwings 配置。"""
    from addin.install import install as run_install

    for line in run_install():
        render.out.print(line)


@addin_app.command()
def doctor() -> None:
    """检查解释器、加载项文件、配置与工作表函数模块，并说明如何修复。"""
    from addin.install import doctor as run_doctor

    rows = run_doctor()
    render.simple_table(
        "kam addin doctor",
        ["检查项", "结果", "如何修复"],
        [(r.check, "通过" if r.ok else "未通过", "" if r.ok else r.fix) for r in rows],
    )
    if not all(r.ok for r in rows):
        raise typer.Exit(1)
