"""A merge's settings from the rules file: where the register is, who should submit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kam.register.columns import REGISTER_FILENAME
from kam.register.merge import MergeSettings
from kam.rules import Rules


def register_path(inbox: Path, rules: Rules) -> Path:
    """The rules file's [merge] register_file, else 集团大客户名录.xlsx beside the inbox folder.

    A relative path is taken from the folder that holds the inbox folder: HQ keeps each
    quarter's inbox and the register side by side.
    """
    base = Path(inbox).resolve().parent
    configured = rules.merge.register_file.strip()
    if not configured:
        return base / REGISTER_FILENAME
    path = Path(configured).expanduser()
    return path if path.is_absolute() else base / path


def merge_settings(
    inbox: Path,
    rules: Rules,
    register: Path | None = None,
    branches: tuple[str, ...] | None = None,
    today: dt.date | None = None,
) -> MergeSettings:
    """MergeSettings where what is not given comes from the rules file's [merge] section."""
    return MergeSettings(
        register=register if register is not None else register_path(inbox, rules),
        inbox=inbox,
        rules=rules,
        today=today,
        branches=branches if branches is not None else tuple(rules.merge.branches),
        keep_history=rules.merge.keep_history,
    )
