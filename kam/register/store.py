"""The register's cache: what the next merge reads of it, as the workbook reads back.

After a few years the register holds hundreds of thousands of rows, and reading them back
(calamine parsing the XML, then one Python value per cell) was a third of a merge. When a
merge writes the register it also writes `<register>.cache` beside it: the content sheets'
values exactly as they will read back (as_read() follows the writer: texts cleaned and cut
at Excel's limit, numbers at 16 digits, times at the millisecond, blanks as None). The next
merge uses it only while the register is sealed (its worksheets are byte for byte what the
last merge wrote: kam.register.seal) and the register names this cache's digest; otherwise
it reads the workbook as before, and writes a new cache. A missing, stale or damaged cache,
or one some other program wrote, is never used, and may be deleted at any time.

The cache is a deflated pickle of plain values only (lists of str, float, bool, None and
datetime); its loader refuses every other class, so a file put in its place cannot run code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import math
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from isal import isal_zlib

from kam.forms import Form
from kam.fs import private_dir, set_mode_like
from kam.insight.trends import HISTORY
from kam.register.columns import (
    CONFLICTS,
    REG_ROSTER,
    REG_TABLES,
    REJECTED,
    SOURCES,
    SUBMISSIONS,
)
from kam.register.columnwise import factorized, per_distinct
from kam.register.fingerprints import FINGERPRINTS, excel_time
from kam.register.repeats import REPEATS
from kam.register.sheet_rows import CELL_LIMIT, CONTROL_RE, PLAIN_NUMBERS, fit_text

SUFFIX = ".cache"
VERSION = 1
_FIRST_SAFE_DAY = dt.datetime(1900, 3, 1)  # before it, Excel's serials are not plain dates
_ALLOWED = frozenset({("datetime", "datetime")})
_CELL_TYPES = frozenset({str, float, bool, dt.datetime, type(None)})
_MAX_RATIO = 50  # a cache inflates to about four times its size; more is not ours


FORMS: tuple[Form, ...] = (
    REG_ROSTER,
    *REG_TABLES,
    CONFLICTS,
    REJECTED,
    SOURCES,
    SUBMISSIONS,
    HISTORY,
    FINGERPRINTS,
    REPEATS,
)
"""The sheets a merge reads of the register (kam.register.previous); the others are rebuilt."""


class Unsafe(ValueError):
    """A value whose read-back this module does not model: no cache is written."""


def cache_path(register: Path) -> Path:
    return register.with_name(register.name + SUFFIX)


def cached(
    frames: dict[str, pd.DataFrame], early: dict[str, list[list[Any]]] | None = None
) -> tuple[bytes | None, str | None]:
    """The cache of a register written from `frames` (by sheet) and its digest, using the
    sheets `early` already has; (None, None) when a value's read-back is not modelled
    (that register is read back the long way)."""
    done = early or {}
    try:
        sheets = {
            form.sheet: done[form.sheet]
            if form.sheet in done
            else sheet_values(frames.get(form.sheet), form)
            for form in FORMS
        }
    except Unsafe:
        return None, None
    data = pack(sheets, FORMS)
    return data, digest(data)


def schema(forms: tuple[Form, ...]) -> str:
    """The sheets and columns a cache holds: a cache of another kam's forms is not used."""
    text = "|".join(f"{form.sheet}:{','.join(f.id for f in form.fields)}" for form in forms)
    return hashlib.blake2b(f"{VERSION}|{text}".encode(), digest_size=8).hexdigest()


def as_read(value: object) -> object:
    """A written cell's value as the register reads it back (kam.register.previous)."""
    kind = type(value)
    if value is None or value is pd.NaT:
        return None
    if kind is str:
        text = fit_text(value)[0]  # type: ignore[arg-type]
        return text or None
    if kind is bool or kind is np.bool_:
        return bool(value)  # type: ignore[arg-type]
    if isinstance(value, dt.datetime | dt.date | np.datetime64):
        when = excel_time(value)
        if when is None:
            return None
        if when < _FIRST_SAFE_DAY:
            raise Unsafe(f"date before 1900-03-01: {when!r}")
        return dt.datetime(
            when.year, when.month, when.day, when.hour, when.minute, when.second, when.microsecond
        )
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number) or math.isinf(number):
            return None
        return float(f"{number:.16G}")
    return as_read(str(value))


def encode(frames: dict[str, pd.DataFrame], forms: tuple[Form, ...]) -> bytes:
    """The cache's bytes for the written frames of `forms` (raises Unsafe)."""
    return pack({form.sheet: sheet_values(frames.get(form.sheet), form) for form in forms}, forms)


def sheet_values(frame: pd.DataFrame | None, form: Form) -> list[list[Any]]:
    """One written sheet's columns as they read back (raises Unsafe)."""
    ids = [f.id for f in form.fields]
    if frame is None or frame.empty:
        return [[] for _ in ids]
    columns = [
        _column(frame[fid].to_numpy(dtype=object))
        if fid in frame
        else np.full(len(frame), None, dtype=object)
        for fid in ids
    ]
    # A row with nothing in it reads back as no row at all.
    kept = np.logical_or.reduce([c != None for c in columns])  # noqa: E711 (element-wise)
    return [c[kept].tolist() for c in columns]


def early_values(frames: dict[str, pd.DataFrame]) -> dict[str, list[list[Any]]]:
    """sheet_values() of the sheets of FORMS already in `frames` (while rows are written),
    up to the first whose read-back is not modelled (cached() then writes no cache)."""
    done: dict[str, list[list[Any]]] = {}
    with contextlib.suppress(Unsafe):
        for form in FORMS:
            if form.sheet in frames:
                done[form.sheet] = sheet_values(frames[form.sheet], form)
    return done


def pack(sheets: dict[str, list[list[Any]]], forms: tuple[Form, ...]) -> bytes:
    body = {"version": VERSION, "schema": schema(forms), "sheets": sheets}
    # Deflated (ISA-L, level 1: a tenth of a second): a quarter of the size on a share.
    return isal_zlib.compress(pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _column(column: np.ndarray) -> np.ndarray:
    """as_read() of each cell, once per distinct value; plain texts and numbers in bulk."""
    found = factorized(column)
    if found is None:
        return per_distinct(column, as_read, None)
    codes, uniques, kinds = found
    made = np.empty(len(uniques) + 1, dtype=object)  # the last entry: blanks (code -1)
    todo = np.ones(len(uniques), dtype=bool)
    if kinds == {str} and len(uniques):
        texts = pd.Series(uniques, dtype=object)
        # As the writer keeps them: no character to remove, not near the cell limit.
        plain = ~texts.str.contains(CONTROL_RE.pattern, regex=True).to_numpy(bool)
        plain &= (texts.str.len() <= CELL_LIMIT // 2).to_numpy() & (uniques != "")
        made[:-1][plain] = uniques[plain]
        todo = ~plain
    elif kinds and kinds <= PLAIN_NUMBERS and len(uniques):
        numbers = uniques.astype(float)
        finite = np.isfinite(numbers)
        made[:-1][finite] = [float(f"{x:.16G}") for x in numbers[finite].tolist()]
        todo = ~finite
    made[:-1][todo] = [as_read(v) for v in uniques[todo]]
    return made[codes]


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode(data: bytes, forms: tuple[Form, ...] = FORMS) -> dict[str, pd.DataFrame] | None:
    """The frames of a cache's bytes, each as kam.register.previous types a sheet; None
    when they are not a cache of these forms."""
    try:
        inflate = isal_zlib.decompressobj()
        plain = inflate.decompress(data, _MAX_RATIO * len(data) + (1 << 20))
        if not inflate.eof:  # far bigger than any cache kam writes (or cut short)
            return None
        body = _PlainUnpickler(io.BytesIO(plain)).load()
    except Exception:  # a damaged or foreign file: read the workbook instead
        return None
    if not isinstance(body, dict) or body.get("schema") != schema(forms):
        return None
    sheets = body.get("sheets")
    if not isinstance(sheets, dict):
        return None
    frames = {}
    for form in forms:
        columns = sheets.get(form.sheet)
        ids = [f.id for f in form.fields]
        if not isinstance(columns, list) or len(columns) != len(ids):
            return None
        if not all(isinstance(c, list) and _plain(c) for c in columns):
            return None
        data_ = {fid: _objects(col) for fid, col in zip(ids, columns, strict=True)}
        if len({len(c) for c in data_.values()}) > 1:
            return None
        frames[form.sheet] = pd.DataFrame(data_, columns=ids, dtype=object)
    return frames


def keep(register: Path, data: bytes | None) -> None:
    """After the register was written: its cache beside it, or none when it has none."""
    if data is None:
        forget(register)
    else:
        save(register, data)


def save(register: Path, data: bytes) -> None:
    """Put the cache beside the register (atomically, with the register's mode); a cache
    that cannot be written is removed: the next merge reads the workbook instead."""
    target = cache_path(register)
    try:
        with private_dir(register) as work:
            tmp = work / target.name
            _write_file(tmp, data)
            set_mode_like(tmp, register)
            os.replace(tmp, target)
    except OSError:
        forget(register)


def _write_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def forget(register: Path) -> None:
    """Remove the register's cache (it no longer describes the register)."""
    with contextlib.suppress(OSError):
        cache_path(register).unlink(missing_ok=True)


def load(register: Path, expected: str) -> bytes | None:
    """The cache's bytes when their digest is `expected` (the register names it)."""
    try:
        data = cache_path(register).read_bytes()
    except OSError:
        return None
    return data if digest(data) == expected else None


def _plain(values: list[Any]) -> bool:
    """Only the kinds of value a register cell reads back as (a cache written by kam)."""
    return set(map(type, values)) <= _CELL_TYPES


def _objects(values: list[Any]) -> np.ndarray:
    made = np.empty(len(values), dtype=object)
    made[:] = values  # (assigned, not np.array(): numpy does not look into the values)
    return made


class _PlainUnpickler(pickle.Unpickler):
    """Plain values only: no class but datetime may be named, so nothing runs on load."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return dt.datetime
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a register cache")
