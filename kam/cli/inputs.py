"""What the commands read from their arguments: dates, the rules, the branch list, files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from kam.errors import KamError, UsageError
from kam.fs import cause_zh
from kam.rules import Rules, load_rules, user_rules

if TYPE_CHECKING:
    from kam.submission import Submission


def parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"{option} 应为 YYYY-MM-DD 格式的日期，收到“{text}”") from exc


def rules_from(path: Path | None) -> Rules:
    """--rules FILE, else the same file the Excel buttons use ($KAM_RULES, ~/.kam/rules.toml)."""
    return load_rules(path) if path else user_rules()


def read_branches(path: Path | None) -> tuple[str, ...]:
    """The known branch list: one unit per line, blank lines and # comments ignored."""
    if path is None:
        return ()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = cause_zh(exc, "不是 UTF-8 编码的文本，请用记事本另存为 UTF-8 后重试")
        raise UsageError(f"无法读取分公司清单 {path}：{why}") from exc
    return tuple(x.strip() for x in lines if x.strip() and not x.lstrip().startswith("#"))


def register_file(path: Path) -> Path:
    """The register named on the command line, or a clear usage error."""
    if not path.is_file():
        raise UsageError(f"找不到集团大客户名录 {path}")
    if not is_register(path):
        raise UsageError(f"{path} 不是集团大客户名录（由 kam merge 生成的工作簿）")
    return path


def is_register(path: Path) -> bool:
    """True for a workbook that has the register's main sheet (decided without parsing)."""
    from kam.io.files import DEFAULT_LIMITS
    from kam.io.sniff import sniff
    from kam.register.columns import REG_ROSTER

    return any(part.name == REG_ROSTER.sheet for part in sniff(path, DEFAULT_LIMITS).sheets)


def looks_like_register(path: Path) -> bool:
    """is_register, False for a file that cannot be read (validate reports it in its own way)."""
    try:
        return path.is_file() and is_register(path)
    except KamError:
        return False


def read_submission(path: Path) -> Submission:
    from kam.reader import read_file

    return read_file(path)
