"""Exceptions of the kam package; only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class KamError(Exception):
    """Base of every error kam raises on purpose."""


class UnreadableFileError(KamError, ValueError):
    """A file that is not a workbook we can read safely (corrupt, encrypted, fake, hostile)."""

    def __init__(self, file: str, reason: str, reason_en: str = "") -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason
        self.reason_en = reason_en or reason


class RulesFileError(KamError, ValueError):
    """The rules file is missing, malformed or has a bad value (names the key)."""


class LockHeldError(KamError, RuntimeError):
    """Another merge holds the register lock."""


class UsageError(KamError, ValueError):
    """Arguments that cannot be used (a bad date, a missing folder)."""


class RegisterWriteError(KamError, OSError):
    """The new register could not replace the old one (e.g. it is open in Excel)."""


class NoticeWriteError(KamError, OSError):
    """A 预警通报 could not be written (folder missing, not writable, or a file in the way)."""
