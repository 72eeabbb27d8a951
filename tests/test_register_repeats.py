"""Events filed again by several quarters survive a resubmission of any one of them.

A later quarter's exact repeat of a stored event is a duplicate, not stored again; the
register remembers which slots repeated it (_kam_repeats), so that a resubmission of the
slot the row is attributed to, dropping the event, keeps it from the slot still filing it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from builders import card_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_merge import customer, deal, info, sheet_rows, submit
from test_register_quarters import CODES, TODAY, A, B, _day, care, report, visit

from kam.forms import MAINTENANCE, RECEPTION, RISK
from kam.register import MergeSettings, merge
from kam.register.archive import archive_files
from kam.register.columns import SUBMISSIONS
from kam.register.repeats import REPEATS

Events = dict[str, list[dict[str, Any]]]
QUARTERS = ("2026Q1", "2026Q2", "2026Q3")


class Branches:
    """Files one branch workbook per call, each submitted a day later than the last (so a
    resubmission of a (branch, quarter) wins), and merges each into one register."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.register = root / "集团大客户名录.xlsx"
        self.n = 0

    def file(self, unit: str, quarter: str, **events: list[dict[str, Any]]):
        """Merge `unit`'s file for `quarter` (one customer, its events); the file's outcome."""
        self.n += 1
        code = CODES[unit][0]
        rows: Events = {
            "roster": [customer(code, unit)],
            "contracts": [deal(code, f"HT-{unit[:2]}-1")],
            "cards": [card_row(uscc=code)],
            "reception": [],
            "maintenance": [],
            "risk": [],
            **events,
        }
        inbox = self.root / f"in{self.n}"
        inbox.mkdir(parents=True)
        when = dt.datetime(2026, 10, 1) + dt.timedelta(days=self.n)
        submit(inbox / f"{unit}_{quarter}.xlsx", info(unit, quarter, submitted_on=when), rows)
        result = merge(MergeSettings(register=self.register, inbox=inbox, today=TODAY))
        out = result.files[0]
        assert out.rows_in == out.merged + out.rejected + out.duplicate
        return out

    def visits(self) -> list[tuple[str, dt.date, str, str]]:
        """接待登记表 rows: (unit, date, 报送季度, 来源文件)."""
        return sorted(
            (r["来源单位"], _day(r["日期"]), r["报送季度"], r["来源文件"])
            for r in sheet_rows(self.register, RECEPTION.sheet)
        )

    def repeats(self) -> list[tuple[str, str, str]]:
        """_kam_repeats rows: (unit, quarter, kind)."""
        return sorted((r["来源单位"], r["报送季度"], r["类别"]) for r in _rows(self.register))

    def counts(self, unit: str, quarter: str) -> tuple[int, int, str]:
        """报送情况 of the slot's file: merged, duplicate, note."""
        row = next(
            r
            for r in sheet_rows(self.register, SUBMISSIONS.sheet)
            if (r["单位"], r["报送季度"]) == (unit, quarter)
        )
        return int(row["合并"]), int(row["重复"]), row["说明"]


def _rows(register: Path) -> list[dict[str, Any]]:
    return sheet_rows(register, REPEATS.sheet)


DAY = dt.date(2026, 2, 3)
E = visit(CODES[A][0], DAY)


def test_a_resubmission_dropping_an_event_keeps_it_from_the_later_quarter(
    tmp_path: Path,
) -> None:
    b = Branches(tmp_path)
    b.file(A, "2026Q1", reception=[E])
    q2 = b.file(A, "2026Q2", reception=[E])
    assert (q2.merged, q2.duplicate) == (3, 1)
    assert b.visits() == [(A, DAY, "2026Q1", f"{A}_2026Q1.xlsx")]
    assert b.repeats() == [(A, "2026Q2", "重复")]
    again = b.file(A, "2026Q1")  # resubmitted without the event
    assert b.visits() == [(A, DAY, "2026Q2", f"{A}_2026Q2.xlsx")]  # still there, once
    assert "已保留" in again.reason
    assert b.repeats() == []
    # 报送情况 of the 2026Q2 file: the row it counted duplicate is now merged from it.
    merged, dup, note = b.counts(A, "2026Q2")
    assert (merged, dup) == (4, 0) and "改由本文件登记" in note and "相同，计为重复" not in note
    b.file(A, "2026Q2")  # now no file holds it: it goes
    assert b.visits() == []


def test_a_later_resubmission_dropping_the_repeat_keeps_the_first(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    b.file(A, "2026Q1", reception=[E])
    b.file(A, "2026Q2", reception=[E])
    b.file(A, "2026Q2")
    assert b.visits() == [(A, DAY, "2026Q1", f"{A}_2026Q1.xlsx")]
    assert b.repeats() == []  # 2026Q2 files it no more
    b.file(A, "2026Q1")
    assert b.visits() == []


def test_a_resubmission_filing_the_event_again_keeps_it_and_its_repeats(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    b.file(A, "2026Q1", reception=[E])
    b.file(A, "2026Q2", reception=[E])
    other = visit(CODES[A][0], dt.date(2026, 3, 1), "签约")
    again = b.file(A, "2026Q1", reception=[E, other])
    # Both its events are its own rows; its state rows are older than 2026Q2's: duplicates.
    assert (again.merged, again.duplicate) == (2, 3)
    assert b.visits() == [
        (A, DAY, "2026Q1", f"{A}_2026Q1.xlsx"),
        (A, dt.date(2026, 3, 1), "2026Q1", f"{A}_2026Q1.xlsx"),
    ]
    assert b.repeats() == [(A, "2026Q2", "重复")]  # 2026Q2 still repeats E
    b.file(A, "2026Q1", reception=[other])
    assert b.visits() == [
        (A, DAY, "2026Q2", f"{A}_2026Q2.xlsx"),
        (A, dt.date(2026, 3, 1), "2026Q1", f"{A}_2026Q1.xlsx"),
    ]


def test_several_repeats_and_two_branches(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    e_b = visit(CODES[B][0], DAY)
    for q in QUARTERS:
        b.file(A, q, reception=[E])
    b.file(B, "2026Q1", reception=[e_b])
    b.file(B, "2026Q2", reception=[e_b])
    b.file(A, "2026Q1")
    assert b.visits() == [
        (A, DAY, "2026Q2", f"{A}_2026Q2.xlsx"),  # the first still filing it
        (B, DAY, "2026Q1", f"{B}_2026Q1.xlsx"),
    ]
    b.file(A, "2026Q2")
    assert b.visits()[0] == (A, DAY, "2026Q3", f"{A}_2026Q3.xlsx")
    b.file(B, "2026Q1")
    assert b.visits() == [
        (A, DAY, "2026Q3", f"{A}_2026Q3.xlsx"),
        (B, DAY, "2026Q2", f"{B}_2026Q2.xlsx"),
    ]
    assert b.repeats() == []


def test_a_slot_repeating_several_events_keeps_them_all(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    c = CODES[A][0]
    events: Events = {
        "reception": [E, visit(c, dt.date(2026, 3, 1), "签约")],
        "risk": [report(c, dt.date(2026, 3, 3))],
    }
    b.file(A, "2026Q1", **events)
    b.file(A, "2026Q2", **events)
    packed = _rows(b.register)
    assert [(r["工作表"], len(r["指纹"].split())) for r in packed] == [
        (RECEPTION.sheet, 2),  # both repeats in one cell
        (RISK.sheet, 1),
    ]
    again = b.file(A, "2026Q1", reception=[E])  # keeps one, drops one of each sheet
    assert "此前登记的 2 条事件" in again.reason
    assert [q for *_, q, _ in b.visits()] == ["2026Q1", "2026Q2"]
    assert [r["报送季度"] for r in sheet_rows(b.register, RISK.sheet)] == ["2026Q2"]
    merged, dup, note = b.counts(A, "2026Q2")
    assert (merged, dup) == (5, 1) and note.startswith("1 行与名录")  # E is still a repeat
    assert b.repeats() == [(A, "2026Q2", "重复")]


def _entries(register: Path) -> list[tuple[str, str, str]]:
    rows = sheet_rows(register, MAINTENANCE.sheet)
    return [(e["是否闭环"], e["报送季度"], e["来源文件"]) for e in rows]


def test_an_updated_entry_falls_back_to_the_version_still_filed(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    c, day = CODES[A][0], dt.date(2026, 2, 10)
    b.file(A, "2026Q1", maintenance=[care(c, A, day, closed=False)])
    b.file(A, "2026Q2", maintenance=[care(c, A, day, closed=True)])  # closed: an update
    assert _entries(b.register) == [("是", "2026Q2", f"{A}_2026Q2.xlsx")]
    assert b.repeats() == [(A, "2026Q1", "已更新")]
    # 2026Q1 filed again, still open: the later quarter's closed entry stays.
    older = b.file(A, "2026Q1", maintenance=[care(c, A, day, closed=False)])
    assert _entries(b.register) == [("是", "2026Q2", f"{A}_2026Q2.xlsx")]
    assert older.duplicate == 4 and "旧版本" in older.reason
    # 2026Q2 filed again without it: the entry is back as 2026Q1 files it, open.
    b.file(A, "2026Q2")
    assert _entries(b.register) == [("否", "2026Q1", f"{A}_2026Q1.xlsx")]
    merged, dup, _ = b.counts(A, "2026Q1")
    assert (merged, dup) == (1, 3)  # its entry, no longer a duplicate; its outdated state
    assert b.repeats() == []


def test_a_dropped_latest_version_gives_way_to_the_next_latest(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    c, day = CODES[A][0], dt.date(2026, 2, 10)
    b.file(A, "2026Q1", maintenance=[care(c, A, day, closed=False)])
    b.file(A, "2026Q3", maintenance=[care(c, A, day, closed=False)])  # a repeat
    b.file(A, "2026Q2", maintenance=[care(c, A, day, closed=True)])  # late, between them
    assert _entries(b.register) == [("否", "2026Q1", f"{A}_2026Q1.xlsx")]  # Q3 is latest
    b.file(A, "2026Q3")  # the latest version withdrawn: 2026Q2's closed entry is now latest
    assert _entries(b.register) == [("是", "2026Q2", f"{A}_2026Q2.xlsx")]


def _all_events(register: Path) -> Counter[tuple[str, str, str]]:
    """(sheet, unit, date) of every event in the register and its archive files."""
    books = [register, *(p for ps in archive_files(register).values() for p in ps)]
    out: Counter[tuple[str, str, str]] = Counter()
    for book in books:
        for form, col in ((RECEPTION, "日期"), (MAINTENANCE, "日期"), (RISK, "发现日期")):
            for r in sheet_rows(book, form.sheet):
                out[(form.id, r["来源单位"], _day(r[col]).isoformat())] += 1
    return out


def test_an_archived_repeat_stays_archived_once(tmp_path: Path) -> None:
    b = Branches(tmp_path)
    old = visit(CODES[A][0], dt.date(2024, 5, 6))
    b.file(A, "2026Q1", reception=[old])
    assert b.visits() == [] and archive_files(b.register)
    q2 = b.file(A, "2026Q2", reception=[old])
    assert q2.duplicate == 1
    b.file(A, "2026Q1")
    assert _all_events(b.register) == Counter({("reception", A, "2024-05-06"): 1})
    assert b.repeats() == []


def test_a_register_without_the_repeats_sheet_still_merges(tmp_path: Path) -> None:
    import openpyxl

    b = Branches(tmp_path)
    b.file(A, "2026Q1", reception=[E])
    b.file(A, "2026Q2", reception=[E])
    wb = openpyxl.load_workbook(b.register)
    del wb[REPEATS.sheet]  # as written before the sheet existed
    wb.save(b.register)
    out = b.file(A, "2026Q3", reception=[E])
    assert out.duplicate == 1
    assert b.visits() == [(A, DAY, "2026Q1", f"{A}_2026Q1.xlsx")]
    assert b.repeats() == [(A, "2026Q3", "重复")]  # only what it has seen since


# Sequences: each step files a (branch, quarter) with some of the pool's events, often
# resubmitting a slot with a different choice. The register and its archive must hold
# every event the latest file of each slot files, once; the register nothing else.

POOL = [
    ("reception", dt.date(2026, 1, 20)),
    ("reception", dt.date(2026, 5, 5)),
    ("maintenance", dt.date(2026, 2, 2)),
    ("maintenance", dt.date(2024, 4, 4)),  # archived
    ("risk", dt.date(2026, 3, 3)),
]
STEP = st.tuples(
    st.sampled_from([(A, q) for q in QUARTERS] + [(B, "2026Q1"), (B, "2026Q2")]),
    st.lists(st.sampled_from(range(len(POOL))), max_size=3, unique=True),
    st.booleans(),  # the 2026 maintenance entry closed or not (versions of one event)
)


def _events(unit: str, picks: list[int], closed: bool) -> Events:
    c = CODES[unit][0]
    out: Events = {"reception": [], "maintenance": [], "risk": []}
    for p in picks:
        kind, day = POOL[p]
        if kind == "reception":
            out[kind].append(visit(c, day))
        elif kind == "maintenance":
            out[kind].append(care(c, unit, day, closed=closed or day.year < 2026))
        else:
            out[kind].append(report(c, day))
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(STEP, min_size=2, max_size=6))
def test_sequences_with_resubmissions_keep_every_filed_event_once(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Any]
) -> None:
    b = Branches(tmp_path_factory.mktemp("repeats"))
    filed: dict[tuple[str, str], tuple[set[int], bool]] = {}
    for (unit, quarter), picks, closed in steps:
        b.file(unit, quarter, **_events(unit, picks, closed))
        filed[(unit, quarter)] = (set(picks), closed)
        now = {
            (POOL[p][0], u, POOL[p][1].isoformat()) for (u, _), (ps, _) in filed.items() for p in ps
        }
        held = _all_events(b.register)
        assert all(n == 1 for n in held.values()), held  # nothing doubled
        assert now <= set(held)  # every event some slot's latest file holds
        in_register = _all_events_of(b.register)
        assert in_register <= now  # the register holds no event nobody files
        # The open/closed entry holds the version of the latest quarter filing it.
        for u in (A, B):
            versions = sorted((q, cl) for (uu, q), (ps, cl) in filed.items() if uu == u and 2 in ps)
            if versions:
                entry = [
                    e for e in sheet_rows(b.register, MAINTENANCE.sheet)
                    if e["来源单位"] == u and _day(e["日期"]).year == 2026
                ]  # fmt: skip
                assert [e["是否闭环"] for e in entry] == ["是" if versions[-1][1] else "否"]


def _all_events_of(register: Path) -> set[tuple[str, str, str]]:
    out = set()
    for form, col in ((RECEPTION, "日期"), (MAINTENANCE, "日期"), (RISK, "发现日期")):
        for r in sheet_rows(register, form.sheet):
            out.add((form.id, r["来源单位"], _day(r[col]).isoformat()))
    return out
