"""Which file of one branch and quarter wins (DOMAIN §5 "Which file wins").

The newer file wins: later 报送日期, then the workbook's own saved time (docProps/core.xml
`dcterms:modified`), then the file's modification time; never its name. A file's times are
taken when a merge first sees it and kept in the register's hidden file record, so that a
copy of the inbox (which resets modification times) never changes an earlier decision.
Files that tie on all three cannot be told apart: none of them replaces what the register
holds, and each is rejected with a reason that names the others.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

CORE = "docProps/core.xml"
CORE_MAX_BYTES = 64 * 1024  # a real core.xml is under 2 KiB; never inflate more than this
_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>\s*([^<\s]+)\s*</dcterms:modified>")


def saved_time(path: Path) -> dt.datetime | None:
    """The workbook's own saved time (UTC, naive), or None when absent or unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(CORE)
            if info.file_size > CORE_MAX_BYTES:
                return None
            with zf.open(info) as fh:
                data = fh.read(CORE_MAX_BYTES + 1)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None
    m = _MODIFIED.search(data)
    if not m:
        return None
    try:
        when = dt.datetime.fromisoformat(m.group(1).decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


def modified_time(path: Path) -> dt.datetime | None:
    """The file's modification time (local, to the millisecond the register keeps), or None."""
    try:
        return to_ms(dt.datetime.fromtimestamp(path.stat().st_mtime))
    except (OSError, ValueError, OverflowError):
        return None


def to_ms(when: dt.datetime) -> dt.datetime:
    """A time rounded to the millisecond (what an Excel cell keeps, read back alike)."""
    whole = when.replace(microsecond=0)
    return whole + dt.timedelta(milliseconds=round(when.microsecond / 1000))


@dataclass(frozen=True)
class Stamp:
    """What orders two files of one branch and quarter (None = unknown, oldest)."""

    file: str
    submitted_on: dt.date | None
    saved_at: dt.datetime | None
    modified_at: dt.datetime | None

    @property
    def key(self) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        low = dt.datetime.min
        day = dt.datetime.combine(self.submitted_on, dt.time()) if self.submitted_on else low
        return (day, self.saved_at or low, self.modified_at or low)


_CRITERIA = ("报送日期", "工作簿保存时间（docProps/core.xml）", "文件修改时间")


def _show(value: dt.datetime) -> str:
    if value == dt.datetime.min:
        return "未知"
    if value.time() == dt.time():
        return value.strftime("%Y-%m-%d")
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond // 1000:03d}" if value.microsecond else text


def why_newer(winner: Stamp, loser: Stamp) -> str:
    """Why `winner` is newer, in Chinese: the first criterion that differs, and the ties."""
    same = []
    for name, a, b in zip(_CRITERIA, winner.key, loser.key, strict=True):
        if a != b:
            lead = f"{'、'.join(same)}相同，" if same else ""
            return f"{lead}{name} {_show(a)} 晚于 {_show(b)}"
        same.append(name)
    return "报送日期、工作簿保存时间与文件修改时间都相同"


def pick(stamps: list[Stamp]) -> tuple[Stamp | None, list[Stamp]]:
    """(the newest, the others); no winner when the newest ones tie on every criterion."""
    ordered = sorted(stamps, key=lambda s: s.key, reverse=True)
    if len(ordered) > 1 and ordered[0].key == ordered[1].key:
        return None, ordered
    return ordered[0], ordered[1:]
