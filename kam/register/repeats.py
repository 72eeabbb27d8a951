"""Which other files filed each stored event: so a resubmission never loses an event.

An event filed again by a later quarter's file is not stored twice (kam.register.state):
the register keeps one row, attributed to one file. The other (branch, quarter) slots
that filed it are remembered here, in the very hidden sheet `_kam_repeats`, keyed by the
sheet and a digest of the event's key (EVENT_KEYS):

- 重复: the slot filed the event and its file counted it as a duplicate. Identical
  filings are packed, many digests per cell; a filing whose values differ from the stored
  row (an older version of an entry a later quarter updated) has one row with its values.
- 已更新: the slot's file merged the event, and a later quarter's filing updated the row;
  its own values are kept on the row.

When a resubmission replaces the slot a stored event is attributed to and the new file
does not file that event again as it was, the event stays if another slot still files it:
it takes the values of the latest quarter still filing it, attributed to the first of the
quarters that filed those values since (as merging them in order would keep it), with
报送季度 and 来源文件 of that slot's file in `_kam_sources`, whose counts move the row
from 重复 to 合并. A replaced slot's own entries are dropped and rebuilt from its new file;
an event whose latest filing was such an entry falls back to the latest version still
filed. Entries of events that leave the register (archived, or no longer filed anywhere)
are dropped, so the sheet holds only what the register's window can need.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kam.forms import Field, Form
from kam.register.columns import PROVENANCE, QUARTER, REG_BY_SOURCE, SHEET, SOURCE_UNIT
from kam.register.fingerprints import CODES, PART, digest
from kam.register.state import EVENT_KEYS, EVENT_SOURCES, key_texts
from kam.submission import display

DUPLICATE, UPDATED = "重复", "已更新"
DUP_NOTE = "{n} 行与名录或归档中已登记的事件相同，计为重复"
OLDER_NOTE = "{n} 条事件较新季度的报送已更新（如维护记录已闭环），本文件的旧版本计为重复"
KEPT_NOTE = "此前登记的 {n} 条事件本文件不再包含，仍由本单位其他季度的报送登记，已保留"
CREDIT_NOTE = "{n} 条原计为重复的事件因原登记的报送被重新报送且不再包含，改由本文件登记"
_DUP_RE = re.compile(DUP_NOTE.replace("{n}", r"(\d+)"))
_PROVENANCE_IDS = frozenset(f.id for f in PROVENANCE)
VALUE_IDS: dict[str, tuple[str, ...]] = {
    sid: tuple(f.id for f in REG_BY_SOURCE[sid].fields if f.id not in _PROVENANCE_IDS)
    for sid in EVENT_SOURCES
}
"""An event's own columns (without provenance), in sheet order: what a version holds."""
_WIDTH = max(len(ids) for ids in VALUE_IDS.values())
VALUES: tuple[Field, ...] = tuple(Field(f"v{n}", f"值{n}", width=14) for n in range(1, _WIDTH + 1))
REPEATS = Form(
    "repeats",
    "_kam_repeats",
    (SHEET, SOURCE_UNIT, QUARTER, PART, CODES, *VALUES),
    help="隐藏表：再次报送名录中已有事件的单位与季度（重新报送时据此保留事件）",
)
_PER_CELL = 1800  # 17 characters each, as in _kam_rows
_SID_BY_SHEET = {REG_BY_SOURCE[sid].sheet: sid for sid in EVENT_SOURCES}
Slot = tuple[Any, Any]
"""(来源单位, 报送季度)."""
Values = tuple[Any, ...]


@dataclass
class Filing:
    """One slot's filing of a stored event."""

    slot: Slot
    values: Values | None  # None: the stored row's values
    counted: bool  # True: its file counted the row as a duplicate (False: merged it)


def key_digest(key_text: str) -> str:
    """The digest an event's key text (state.key_texts) is remembered by."""
    return digest((key_text,))


def live_files(sources: pd.DataFrame | None) -> dict[Slot, str]:
    """(unit, quarter) -> the file whose rows the register holds for that slot."""
    if sources is None or sources.empty or "status" not in sources:
        return {}
    live = sources[sources["status"].isin(("merged", "partial"))]
    return dict(zip(zip(live["unit"], live["quarter"], strict=True), live["file"], strict=True))


def _text(values: Iterable[Any]) -> str:
    return "\x1f".join(display(v) for v in values)


@dataclass
class Repeats:
    """The filings of stored events by other slots, per source form id and key digest."""

    filings: dict[str, dict[str, list[Filing]]] = field(default_factory=dict)
    credits: Counter[Slot] = field(default_factory=Counter)  # rows now held from a 重复
    restored: Counter[Slot] = field(default_factory=Counter)  # rows kept, by replaced slot
    touched: dict[str, set[str]] = field(default_factory=dict)  # keys a replaced slot left

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None) -> Repeats:
        """Read back `_kam_repeats` (absent in a register written before it: none known)."""
        out = cls()
        if frame is None or frame.empty:
            return out
        value_cols = [f.id for f in VALUES]
        for rec in frame.to_dict(orient="records"):
            sid = _SID_BY_SHEET.get(rec.get("sheet"))
            kind = rec.get("part")
            codes = rec.get("codes")
            if sid is None or kind not in (DUPLICATE, UPDATED) or not isinstance(codes, str):
                continue
            slot = (rec.get("source_unit"), rec.get("quarter"))
            cells = [rec.get(c) for c in value_cols[: len(VALUE_IDS[sid])]]
            values = tuple(cells) if any(c is not None for c in cells) else None
            for code in codes.split():
                out.add(sid, code, Filing(slot, values, kind == DUPLICATE))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The `_kam_repeats` rows: identical duplicates packed, other versions one a row."""
        ids = [f.id for f in REPEATS.fields]
        rows: list[dict[str, Any]] = []
        for sid, by_key in self.filings.items():
            sheet = REG_BY_SOURCE[sid].sheet
            packed: dict[Slot, list[str]] = {}
            for code, filings in sorted(by_key.items()):
                for f in filings:
                    if f.values is None and f.counted:
                        packed.setdefault(f.slot, []).append(code)
                        continue
                    row = {"sheet": sheet, "source_unit": f.slot[0], "quarter": f.slot[1]}
                    row |= {"part": DUPLICATE if f.counted else UPDATED, "codes": code}
                    values = f.values or ()
                    rows.append(row | {v.id: x for v, x in zip(VALUES, values, strict=False)})
            for (unit, quarter), codes in sorted(packed.items(), key=lambda kv: str(kv[0])):
                for start in range(0, len(codes), _PER_CELL):
                    chunk = " ".join(codes[start : start + _PER_CELL])
                    rows.append(
                        {"sheet": sheet, "source_unit": unit, "quarter": quarter,
                         "part": DUPLICATE, "codes": chunk}
                    )  # fmt: skip
        return pd.DataFrame(rows, columns=ids, dtype=object)

    def add(self, sid: str, code: str, filing: Filing) -> None:
        """Remember one more slot filing the stored event `code`."""
        self.filings.setdefault(sid, {}).setdefault(code, []).append(filing)

    def forget_slots(self, slots: set[Slot]) -> None:
        """Drop the filings of replaced slots: their new files file them again (or not)."""
        for sid, by_key in self.filings.items():
            for code in list(by_key):
                kept = [f for f in by_key[code] if f.slot not in slots]
                if len(kept) < len(by_key[code]):
                    self.touched.setdefault(sid, set()).add(code)
                if kept:
                    by_key[code] = kept
                else:
                    del by_key[code]

    def leave(self, sid: str, rows: pd.DataFrame) -> None:
        """Forget the events of `rows` (they left the register, e.g. for the archive)."""
        by_key = self.filings.get(sid)
        if not by_key or rows.empty:
            return
        for text in key_texts(rows, EVENT_KEYS[sid]):
            by_key.pop(key_digest(text), None)

    # Called by state._events for each new row that meets a stored one.

    def duplicate(self, sid: str, key_text: str, slot: Slot) -> None:
        """`slot` filed the stored event again, identical: counted as a duplicate."""
        self.add(sid, key_digest(key_text), Filing(slot, None, True))

    def older(self, sid: str, key_text: str, slot: Slot, values: Values) -> None:
        """`slot` filed an older version of a stored event a later quarter updated."""
        self.add(sid, key_digest(key_text), Filing(slot, values, True))

    def updated(self, sid: str, key_text: str, slot: Slot, values: Values) -> None:
        """The stored row of `slot` (values `values`) gave way to a later quarter's version."""
        code = key_digest(key_text)
        filings = self.filings.setdefault(sid, {}).setdefault(code, [])
        for f in filings:  # they filed the version that is no longer stored
            if f.values is None:
                f.values = values
        filings.append(Filing(slot, values, False))

    def restore(
        self,
        sid: str,
        old: pd.DataFrame,
        replaced: set[Slot],
        files: dict[Slot, str],
        new: list[tuple[Slot, pd.DataFrame | None]],
    ) -> pd.DataFrame:
        """The stored rows without those of replaced slots, except events another slot still
        files; each event touched holds the latest version still filed (module docstring).
        `new`: this run's rows of `sid` by the slot filing them."""
        touched = self.touched.pop(sid, set())
        if old.empty:
            return old
        slots = pd.Series(list(zip(old["source_unit"], old["quarter"], strict=True)), old.index)
        gone = slots.isin(replaced)
        by_key = self.filings.get(sid)
        if not by_key or not (gone.any() or touched):
            return old[~gone]
        # Only a resubmission whose slot filed repeats touches the rows of other slots.
        codes = _codes(old, sid) if touched else _codes(old[gone], sid)
        look = codes[gone[codes.index] | codes.isin(touched)]
        them = set(slots[gone])
        refiled = refiled_rows(sid, [(s, f) for s, f in new if s in them])
        ids = list(VALUE_IDS[sid])
        out = old.copy()
        drop = []
        for i, code in look.items():
            filings = [f for f in by_key.get(code, ()) if f.slot in files]
            own = tuple(old.loc[i, ids])
            if not filings:
                by_key.pop(code, None)  # no other slot files it (any more)
                if gone[i]:
                    drop.append(i)
                continue
            if gone[i] and (slots[i], _text(own)) in refiled:
                drop.append(i)  # filed again as it was by the new file: that row takes over
                continue
            mine = [] if gone[i] else [Filing(slots[i], None, False)]
            versions = [(f, f.values if f.values is not None else own) for f in mine + filings]
            filing, values = _latest(versions)
            if any(filing is m for m in mine):
                by_key[code] = filings  # its own version is still the latest
                continue
            self.restored[slots[i]] += int(gone[i])
            if filing.counted:
                self.credits[filing.slot] += 1
            out.loc[i, ids] = pd.Series(values, index=ids, dtype=object)
            out.at[i, "quarter"] = filing.slot[1]
            out.at[i, "source_file"] = files[filing.slot]
            latest = _text(values)
            rest = [
                Filing(f.slot, None if _text(v) == latest else v, f.counted)
                for f, v in versions
                if f is not filing
            ]
            by_key[code] = rest
        return out.drop(index=drop).reset_index(drop=True) if drop else out

    def latest(self, sid: str, key_text: str) -> str:
        """The latest quarter of the other slots filing the stored event ('' if none)."""
        filings = self.filings.get(sid, {}).get(key_digest(key_text), ())
        return max((str(f.slot[1]) for f in filings), default="")


def _codes(frame: pd.DataFrame, sid: str) -> pd.Series:
    """Each row's key digest."""
    texts = key_texts(frame, EVENT_KEYS[sid])
    return pd.Series([key_digest(t) for t in texts], index=frame.index, dtype=object)


def _latest(versions: list[tuple[Filing, Values]]) -> tuple[Filing, Values]:
    """The version of the latest quarter filing it, from the first of the quarters that
    filed it since (as merging them in order keeps the first of equal filings)."""
    ordered = sorted(versions, key=lambda fv: str(fv[0].slot[1]))
    latest = _text(ordered[-1][1])
    pick = ordered[-1]
    for fv in reversed(ordered):
        if _text(fv[1]) != latest:
            break
        pick = fv
    return pick


def refiled_rows(sid: str, frames: Iterable[tuple[Slot, pd.DataFrame]]) -> set[tuple[Slot, str]]:
    """(slot, values text) of the new rows of `sid` this run merges."""
    from kam.register.state import concat

    out: set[tuple[Slot, str]] = set()
    for slot, rows in frames:
        if rows is not None and len(rows):
            texts = key_texts(concat([rows], sid), VALUE_IDS[sid])
            out.update((slot, t) for t in texts)
    return out


def credit(sources: pd.DataFrame, credits: Counter[Slot]) -> pd.DataFrame:
    """`_kam_sources` with each crediting slot's file counting the rows it now holds as
    merged instead of duplicate, and saying why."""
    if not credits or sources.empty:
        return sources
    out = sources.copy()
    live = out["status"].isin(("merged", "partial"))
    for (unit, quarter), n in credits.items():
        at = out.index[live & (out["unit"] == unit) & (out["quarter"] == quarter)]
        for i in at[:1]:
            out.at[i, "merged"] = _int(out.at[i, "merged"]) + n
            out.at[i, "duplicate"] = max(_int(out.at[i, "duplicate"]) - n, 0)
            was = out.at[i, "reason"]
            notes = was.split("；") if isinstance(was, str) and was else []
            out.at[i, "reason"] = "；".join([*_recount(notes, n), CREDIT_NOTE.format(n=n)])
    return out


def _recount(notes: list[str], n: int) -> list[str]:
    """The file's notes with DUP_NOTE's count lowered by `n` (dropped at zero)."""
    out = []
    for note in notes:
        m = _DUP_RE.fullmatch(note)
        if m is None:
            out.append(note)
        elif int(m.group(1)) > n:
            out.append(DUP_NOTE.format(n=int(m.group(1)) - n))
    return out


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value == value else 0
