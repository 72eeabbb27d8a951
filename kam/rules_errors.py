"""Rules-file mistakes said in Chinese: which key, what is wrong, and the key meant for a typo."""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

# pydantic error type -> Chinese, filled from the error's ctx (ge, gt, expected, ...).
_TEXT = {
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数（不带小数）",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "string_type": "应为文字（用英文双引号括起来）",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "list_type": '应为列表，如 ["华东分公司", "华南分公司"]',
    "tuple_type": "应为列表",
    "model_type": "应为一节（[…] 表），不是单个值",
    "dict_type": "应为一节（[…] 表），不是单个值",
    "literal_error": "只能是 {expected}",
    "missing": "缺少此项",
    "too_short": "项数太少",
    "too_long": "项数太多",
}
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """A TOML syntax error, in Chinese, with its line and column."""
    at = _TOML_AT.search(str(exc))
    where = f"第 {at.group(1)} 行第 {at.group(2)} 列" if at else ""
    return (
        f"规则文件 {path} {where}格式有误（不是有效的 TOML）：请检查该处的等号、引号和方括号，"
        "文字值要用英文双引号括起来"
    )


def validation_problems(path: Path, exc: ValidationError, model: type[BaseModel]) -> str:
    """Every wrong key of the rules file, in Chinese, each named as `[section] key`."""
    lines = [_one(e, model) for e in exc.errors()]
    return f"规则文件 {path} 有误：" + "；".join(lines)


def _one(error: Any, model: type[BaseModel]) -> str:
    loc = [p for p in error["loc"] if isinstance(p, (str, int))]
    keys = [p for p in loc if isinstance(p, str)]
    name = ".".join(str(p) for p in loc) or "（整个文件）"
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields(model, keys[:-1])
        close = difflib.get_close_matches(keys[-1], known, n=1, cutoff=0.6) if keys else []
        hint = f"是否想写 {close[0]}？" if close else ""
        if not hint and known:
            hint = "可用的键：" + "、".join(known)
        return f"“{name}”不是可用的键，{hint}"
    if kind == "value_error":
        said = str(error.get("ctx", {}).get("error", "")) or error["msg"]
        return f"“{name}”：{said}"
    text = _TEXT.get(kind, "取值不正确").format_map(
        {k: _show(v) for k, v in (error.get("ctx") or {}).items()}
    )
    value = error.get("input")
    got = "" if kind == "missing" or isinstance(value, dict) else f"（现为 {value}）"
    return f"“{name}”{text}{got}"


def _show(value: object) -> str:
    """A value or a pydantic ctx item; "'a', 'b' or 'c'" becomes “a” / “b” / “c”."""
    quoted = re.findall(r"'([^']*)'", value) if isinstance(value, str) else []
    return " / ".join(f"“{q}”" for q in quoted) if quoted else str(value)


def _fields(model: type[BaseModel], path: list[str]) -> list[str]:
    """The keys a section of the rules file may hold (the fields of the model at `path`)."""
    for key in path:
        field = model.model_fields.get(key)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
