"""The yearly archive: events older than the register's window, one workbook per year.

The register keeps every event from `keep_from()` on (the longest risk window, the latest
quarters and the current year of the rules file's [archive] section, counted back from
as-of), plus the events whose rules look at them whatever their age: maintenance entries
not closed and 破产征兆 reports. Whole years before that move to
`<register>_归档_<年>.xlsx` beside the register, with the register's columns (来源单位,
来源文件, 报送季度 included). An archive file, once written, is never rewritten: rows of a
year that is already archived (a late filing, an entry closed later) go to a new
supplement `<register>_归档_<年>_补<n>.xlsx`; rows already in a year's archive files are
not archived twice (e.g. after a merge interrupted between the archive and the register).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import python_calamine as calamine
import xlsxwriter

from kam.errors import UnreadableFileError
from kam.forms import MAINTENANCE, RISK
from kam.fs import cause_zh, private_dir, set_mode_like
from kam.register.columns import REG_BY_SOURCE
from kam.register.state import (
    EVENT_DATES,
    EVENT_KEYS,
    EVENT_SOURCES,
    Origin,
    concat,
    key_texts,
    origins,
)
from kam.risk_rules import BANKRUPTCY, YES, quarter_start
from kam.rules import Rules

if TYPE_CHECKING:
    from kam.register.previous import Previous

Pending = dict[int, dict[str, pd.DataFrame]]
"""Rows leaving the register: year -> source form id -> rows."""

ARCHIVE_TAG = "_归档_"
_NAME_RE = re.compile(r"_归档_(\d{4})(?:_补(\d+))?\.xlsx$")


def keep_from(as_of: dt.date, rules: Rules) -> dt.date:
    """The first day whose events the register keeps (module docstring)."""
    a = rules.archive
    starts = [_risk_start(as_of, rules), quarter_start(as_of, a.keep_quarters)]
    if a.keep_current_year:
        starts.append(dt.date(as_of.year, 1, 1))
    return min(starts)


def event_years(frame: pd.DataFrame, sid: str) -> pd.Series:
    """Each event's year by its date (NaN when the date is missing or not a date)."""
    day = pd.to_datetime(frame[EVENT_DATES[sid]], errors="coerce")
    return day.dt.year


def pinned(frame: pd.DataFrame, sid: str) -> pd.Series:
    """Events a rule looks at whatever their age: open maintenance, 破产征兆 reports."""
    if sid == MAINTENANCE.id:
        return frame["closed"] != YES
    if sid == RISK.id:
        return frame["risk_type"] == BANKRUPTCY
    return pd.Series(False, index=frame.index)


def split(
    stores: dict[str, pd.DataFrame], as_of: dt.date | None, rules: Rules
) -> tuple[dict[str, pd.DataFrame], Pending]:
    """The events the register keeps, and the older ones by year (stores is not changed)."""
    kept = dict(stores)
    pending: Pending = {}
    if as_of is None:
        return kept, pending
    first_year = keep_from(as_of, rules).year
    for sid in EVENT_SOURCES:
        frame = stores.get(sid)
        if frame is None or frame.empty:
            continue
        year = event_years(frame, sid)
        old = (year < first_year).to_numpy() & ~pinned(frame, sid).to_numpy(bool)
        if not old.any():
            continue
        kept[sid] = frame[~old].reset_index(drop=True)
        leaving = frame[old]
        for y, rows in leaving.groupby(year[old].astype(int), sort=True):
            pending.setdefault(int(y), {})[sid] = rows
    return kept, pending


def archive_path(register: Path, year: int, part: int = 0) -> Path:
    """`集团大客户名录_归档_2025.xlsx`, or its n-th supplement `…_归档_2025_补n.xlsx`."""
    tail = f"_补{part}" if part else ""
    return register.with_name(f"{register.stem}{ARCHIVE_TAG}{year}{tail}{register.suffix}")


def archive_files(register: Path) -> dict[int, list[Path]]:
    """The archive workbooks beside the register, by year, main file first."""
    out: dict[int, list[tuple[int, Path]]] = {}
    for p in register.parent.glob(f"{register.stem}{ARCHIVE_TAG}*{register.suffix}"):
        m = _NAME_RE.search(p.name)
        if m and p.name.startswith(register.stem + ARCHIVE_TAG):
            out.setdefault(int(m.group(1)), []).append((int(m.group(2) or 0), p))
    return {y: [p for _, p in sorted(parts)] for y, parts in sorted(out.items())}


def read_archive(paths: Iterable[Path]) -> dict[str, pd.DataFrame]:
    """The event rows of the given archive files, per source form id."""
    from kam.register.previous import _typed  # the register's own reader of a sheet

    parts: dict[str, list[pd.DataFrame]] = {sid: [] for sid in EVENT_SOURCES}
    for path in paths:
        try:
            book = calamine.load_workbook(str(path))
            for sid in EVENT_SOURCES:
                form = REG_BY_SOURCE[sid]
                if form.sheet in book.sheet_names:
                    grid = book.get_sheet_by_name(form.sheet).to_python(skip_empty_area=False)
                    parts[sid].append(_typed(grid, form))
        except Exception as exc:  # calamine raises its own and OS errors; all mean the same
            raise UnreadableFileError(
                str(path),
                f"归档文件无法读取（{cause_zh(exc, '文件已损坏或不是工作簿')}）；"
                "请从备份恢复后重试",
                f"the archive cannot be read ({exc}); restore it from a backup",
            ) from exc
    return {sid: concat(frames, sid) for sid, frames in parts.items()}


def archived_since(register: Path, year: int) -> dict[str, pd.DataFrame]:
    """Every archived event of `year` and later (for a window reaching before the register)."""
    files = [p for y, ps in archive_files(register).items() if y >= year for p in ps]
    return read_archive(files)


def drop_archived(register: Path, pending: Pending) -> Counter[Origin]:
    """Leave out of `pending` the rows its year's archive files already hold; returns how
    many per source file (a late filing of an archived event is a duplicate of it)."""
    known = archive_files(register)
    already: Counter[Origin] = Counter()
    for year, frames in pending.items():
        if year not in known:
            continue
        archived = read_archive(known[year])
        for sid, rows in list(frames.items()):
            # The closed year keeps the version it archived; an interrupted merge (archive
            # written, register not) never archives a row twice.
            seen = _held_in(rows, archived[sid], sid)
            already.update(origins(rows.loc[seen]))
            frames[sid] = rows[~seen]
    return already


def drop_refiled(
    register: Path,
    stores: dict[str, pd.DataFrame],
    before: dict[str, pd.DataFrame],
    as_of: dt.date | None,
    rules: Rules,
) -> tuple[dict[str, pd.DataFrame], Counter[Origin], dict[str, pd.DataFrame]]:
    """Events of an archived year that stay by a rule (an open maintenance entry), new to
    the register, whose key the year's archive already holds: a closed entry filed again as
    open is a duplicate of its archived version, so the archive and the register hold each
    event once. Returns the kept stores, the duplicates per source file and the rows left
    out. Only the archive files of such rows' years are read (rarely any)."""
    known = archive_files(register)
    out, already, gone = dict(stores), Counter[Origin](), {}
    if as_of is None or not known:
        return out, already, gone
    first_year = keep_from(as_of, rules).year
    for sid in EVENT_SOURCES:
        whole = stores.get(sid)
        if whole is None or whole.empty:
            continue
        frame = whole[pinned(whole, sid).to_numpy(bool)]  # split() kept no other old rows
        year = event_years(frame, sid)
        old = (year < first_year) & year.isin(list(known))
        if not old.any():
            continue
        frame, year = frame[old.to_numpy()], year[old]
        stored = before.get(sid)
        if stored is not None and len(stored):  # its old rows are pinned ones too
            new_here = ~_held_in(frame, stored[pinned(stored, sid).to_numpy(bool)], sid)
            frame, year = frame[new_here.to_numpy()], year[new_here]
        if frame.empty:
            continue
        archived = read_archive(p for y in sorted({int(y) for y in year}) for p in known[y])
        rows = frame[_held_in(frame, archived[sid], sid).to_numpy()]
        if len(rows):
            already.update(origins(rows))
            out[sid] = whole.drop(index=rows.index).reset_index(drop=True)
            gone[sid] = rows
    return out, already, gone


def _held_in(rows: pd.DataFrame, other: pd.DataFrame, sid: str) -> pd.Series:
    """Whether each row's event (EVENT_KEYS) is one `other` holds too."""
    there = set(key_texts(other, EVENT_KEYS[sid]))
    return pd.Series(key_texts(rows, EVENT_KEYS[sid]), index=rows.index).isin(there)


def write_archives(register: Path, pending: Pending, max_rows: int) -> list[Path]:
    """Write each year's leaving rows into new archive files (never over an existing one)."""
    known = archive_files(register)
    written = []
    for year, frames in sorted(pending.items()):
        part = _next_part(known.get(year, []))
        for chunk in _chunks(frames, max_rows - 1):
            path = archive_path(register, year, part)
            write_new(path, chunk, register)
            written.append(path)
            part += 1
    return written


def _next_part(have: list[Path]) -> int:
    parts = [int(m.group(2) or 0) for p in have if (m := _NAME_RE.search(p.name))]
    return max(parts) + 1 if parts else 0


def _chunks(frames: dict[str, pd.DataFrame], rows: int) -> list[dict[str, pd.DataFrame]]:
    """The year's rows cut so that no sheet of one workbook passes `rows` data rows."""
    frames = {sid: f for sid, f in frames.items() if len(f)}
    if not frames:
        return []
    n = max(-(-len(f) // rows) for f in frames.values())
    return [{sid: f.iloc[i * rows : (i + 1) * rows] for sid, f in frames.items()} for i in range(n)]


def write_new(path: Path, frames: dict[str, pd.DataFrame], like: Path) -> None:
    """Write an archive workbook atomically at a path that must not exist yet."""
    from kam.register.parallel_rows import write_pending
    from kam.register.sheet_rows import RowWriter, Styles, splice
    from kam.register.writer import WORKBOOK_OPTIONS, _Cells, _table, close

    if path.exists():  # an archive is never rewritten (the register lock keeps this race-free)
        raise FileExistsError(path)
    # In the register's private folder (kam.fs), which the next merge sweeps after a kill.
    with private_dir(like) as work:
        tmp = work / path.name
        notes: list[str] = []
        wb = xlsxwriter.Workbook(str(tmp), {**WORKBOOK_OPTIONS, "tmpdir": str(work)})
        wb.set_properties({"title": path.stem, "author": "KAM"})
        cells = _Cells(wb, notes)
        index = (cells.date, cells.datetime, cells.quoted)  # formula-like text: quote prefix
        rows = RowWriter(Styles(*(f._get_xf_index() for f in index)), work, notes, pending=[])
        for sid in EVENT_SOURCES:
            form = REG_BY_SOURCE[sid]
            frame = frames.get(sid, pd.DataFrame()).sort_values(
                EVENT_DATES[sid], kind="stable", key=_sortable
            ) if sid in frames else concat([], sid)  # fmt: skip
            _table(wb, rows, cells, form, frame)
        write_pending(rows)  # two processes where fork exists (kam.register.parallel_rows)
        close(wb)
        splice(tmp, rows.sheets)
        set_mode_like(tmp, like)  # the register's mode and group (a first one: the umask's)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def _sortable(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, errors="coerce")


def with_archive(prev: Previous, register: Path, rules: Rules, as_of: dt.date | None) -> None:
    """Add to `prev` the archived events a risk window starting before the register needs."""
    from kam.register.assess import register_as_of
    from kam.register.owners import resolve

    when = as_of or register_as_of(resolve(prev.tables["roster"]).view)
    if when is None:
        return
    need = _risk_start(when, rules).year
    files = [p for y, ps in archive_files(register).items() if y >= need for p in ps]
    if not files:
        return
    for sid, rows in read_archive(files).items():
        if len(rows):
            # A row both archived and still stored (an interrupted merge) is read once.
            both = concat([prev.tables.get(sid), rows], sid)
            first = ~pd.Series(key_texts(both, EVENT_KEYS[sid])).duplicated().to_numpy()
            prev.tables[sid] = both[first].reset_index(drop=True)


def _risk_start(as_of: dt.date, rules: Rules) -> dt.date:
    r = rules.risk
    return min(
        quarter_start(as_of, r.report_quarters),
        # few_top_contacts counts from the day after as-of minus N months
        (pd.Timestamp(as_of) - pd.DateOffset(months=r.top_contact_months)).date()
        + dt.timedelta(days=1),
        as_of - dt.timedelta(days=r.no_contact_days),
    )
