"""Runs that could not be done (exit 2): an OS error told in our words, path, cause and fix."""

from __future__ import annotations

from kam.errors import KamError, UsageError
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


def error_code(exc: KamError) -> str:
    """The stable `error.code` of a run that could not be done."""
    from kam.errors import LockHeldError, RegisterWriteError, RulesFileError, UnreadableFileError

    codes = {
        UnreadableFileError: "unreadable",
        RulesFileError: "rules_file",
        LockHeldError: "lock_held",
        RegisterWriteError: "write_failed",
        UsageError: "usage",
    }
    return next((code for kind, code in codes.items() if isinstance(exc, kind)), "cannot_run")
