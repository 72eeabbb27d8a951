"""Typer's own help texts in Chinese (help option, usage line, panel titles), flags shown bare.

The command and option help texts are ours and already Chinese; these classes translate what
typer itself prints around them. Panel titles are typer's module-level settings (the same
knobs rich-click users set); the rest is done by overriding the Command methods that write it.
"""

from __future__ import annotations

import re
from typing import Any

from typer import rich_utils
from typer.core import TyperCommand, TyperGroup

HELP_OPTION = "显示帮助并退出"
USAGE = "用法："
TYPER_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEFAULT_STRING": "[缺省：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "DEPRECATED_STRING": "（已弃用）",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "用 [blue]“{command_path} {help_option}”[/] 查看帮助。",
}


def use_chinese_panels() -> None:
    """Typer's panel titles and notes in Chinese."""
    for name, text in TYPER_TEXTS.items():
        setattr(rich_utils, name, text)


class _Chinese:
    """Help option, usage prefix and bare flags for a typer command or group."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION
        return option

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:  # a flag takes no value: no "<bool>" beside it
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = " ".join(self.collect_usage_pieces(ctx))  # type: ignore[attr-defined]
        pieces = pieces.replace("[OPTIONS]", "[选项]").replace(
            "COMMAND [ARGS]...", "命令 [参数]..."
        )
        formatter.write_usage(ctx.command_path, pieces, prefix=USAGE)


class ChineseCommand(_Chinese, TyperCommand):
    """A kam command with typer's texts in Chinese."""


class ChineseGroup(_Chinese, TyperGroup):
    """The kam command group with typer's texts in Chinese."""


# Typer's usage errors, said in Chinese; a second group is typer's suggestion, if any.
_ERRORS = (
    (r"No such option: (\S+)(?: \(Possible options: (.+)\))?", "没有选项 {0}"),
    (r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?", "没有命令 {0}"),
    (r"Missing argument '(.+?)'\.?", "缺少参数 {0}"),
    (r"Missing option '(.+?)'\.?", "缺少选项 {0}"),
    (r"Option '(.+?)' requires (?:an argument|\d+ arguments)\.?", "选项 {0} 需要一个值"),
    (r"Got unexpected extra arguments? \((.+)\)", "多余的参数：{0}"),
    (r"Invalid value for (.+?): (.+)", "{0} 的值无效"),
)


# click's checks of a path argument (its Path type reads and stats the file first).
_PATH_FAILS = (
    (
        r"is not readable",
        "当前账户没有权限读取 {0}，请让文件所有者开放读取权限，或换用有权限的账户",
    ),
    (r"is not writable", "当前账户没有权限写入 {0}，请换一个可写的位置，或换用有权限的账户"),
    (r"does not exist", "{0} 不存在，请检查路径是否正确、共享盘是否已连接"),
    (r"is a directory", "{0} 是文件夹，请指定其中的文件"),
    (r"is a file", "{0} 是文件，请指定文件夹"),
)


def _path_fail(text: str) -> str:
    """click's English words on a path, in Chinese; other texts as they are."""
    for words, zh in _PATH_FAILS:
        m = re.fullmatch(rf"(?:path|file|directory) (['\"])(.+)\1 {words}\.?", text, re.I | re.S)
        if m:
            return zh.format(m.group(2))
    return text


def usage_error(message: str, command: str = "kam") -> str:
    """A typer usage error in Chinese, with where to look for help."""
    said = message.strip()
    for pattern, text in _ERRORS:
        m = re.fullmatch(pattern, said, flags=re.S)
        if m:
            second = (m.group(2) or "").strip("'") if m.re.groups > 1 else None
            said = text.format(m.group(1))
            if second and "值无效" in said:
                said += f"：{_path_fail(second)}"
            elif second:
                said += f"（是否想写 {second}？）"
            break
    return f"{said}。用“{command} --help”查看用法"
