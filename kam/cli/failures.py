"""Runs that could not be done (exit 2): OS errors and kam's own, as a message or JSON."""

from __future__ import annotations

import sys

from kam.cli import render
from kam.errors import KamError, LockHeldError
from kam.fs import TMP_PREFIX, os_cause


def os_error_text(exc: OSError, lang: str = "zh") -> tuple[str, str]:
    """(code, message) of an OS error: the path, the cause and what to do, in our words."""
    cause = os_cause(exc)
    paths = [str(p) for p in (exc.filename, exc.filename2) if p not in (None, "")]
    paths = [p for p in paths if TMP_PREFIX not in p] or paths  # our temp folder means nothing
    if lang == "en":
        where = " -> ".join(paths) or "a file"
        return (
            cause.code,
            f"cannot use {where}: {cause.en}. {cause.advice_en[0].upper()}{cause.advice_en[1:]}",
        )
    where = " → ".join(paths) or "文件"
    return cause.code, f"无法访问 {where}：{cause.zh}。{cause.advice}"


def kam_error_code(exc: KamError) -> str:
    return "lock_held" if isinstance(exc, LockHeldError) else "cannot_run"


def fail(code: str, message: str) -> None:
    """Say why the run could not be done: the JSON error document under --json, else red."""
    if "--json" in sys.argv[1:]:
        render.print_json({"error": {"code": code, "message": message}})
    else:
        render.failure(message)
