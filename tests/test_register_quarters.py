"""The register over many quarters: state replaced, events kept once, archive, Excel limits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import python_calamine as calamine
from builders import card_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_merge import customer, deal, info, sheet_rows, submit
from test_register_cache import assert_cache_matches_book

from kam.errors import UsageError
from kam.forms import CARDS, CONTRACTS, MAINTENANCE, RECEPTION, RISK
from kam.register import MergeSettings, merge
from kam.register.archive import archive_files, archive_path
from kam.register.columns import CHANGES, REG_ROSTER
from kam.register.limits import SheetLimits
from kam.register.reassess import register_risk
from kam.rules import load_rules
from kam.uscc import make_uscc

TODAY = dt.date(2026, 12, 20)
A, B = "华东分公司", "华南分公司"
CODES = {A: [make_uscc(i) for i in range(6)], B: [make_uscc(100 + i) for i in range(6)]}
QUARTER_END = {"2026Q1": dt.date(2026, 3, 31), "2026Q2": dt.date(2026, 6, 30),
               "2026Q3": dt.date(2026, 9, 30)}  # fmt: skip


def visit(code: str, day: dt.date, purpose: str = "年度走访", **over: Any) -> dict[str, Any]:
    row = {
        "date": dt.datetime.combine(day, dt.time()),
        "uscc": code,
        "visitor": "赵六",
        "visitor_title": "总经理",
        "host": "李强",
        "host_title": "副总经理",
        "top_level": "否",
        "purpose": purpose,
        "result": "达成意向",
    }
    return {**row, **over}


def care(code: str, unit: str, day: dt.date, closed: bool, **over: Any) -> dict[str, Any]:
    when = dt.datetime.combine(day, dt.time())
    row = {
        "date": when,
        "uscc": code,
        "method": "拜访",
        "unit": unit,
        "summary": "回访工程进度",
        "issue": "付款计划",
        "deadline": when + dt.timedelta(days=30),
        "owner": "李强",
        "closed": "是" if closed else "否",
        "closed_on": when + dt.timedelta(days=5) if closed else None,
    }
    return {**row, **over}


def report(code: str, day: dt.date, kind: str = "资金链紧张", **over: Any) -> dict[str, Any]:
    row = {
        "uscc": code,
        "risk_type": kind,
        "level": "中",
        "found_on": dt.datetime.combine(day, dt.time()),
        "description": "回款放缓",
        "measures": "加强催收",
        "reported": "是",
    }
    return {**row, **over}


def quarter_file(
    folder: Path, unit: str, quarter: str, codes: list[str], **events: list[dict[str, Any]]
) -> Path:
    """A branch's full state (roster, card, one contract per customer) plus its events."""
    rows: dict[str, list[dict[str, Any]]] = {
        "roster": [customer(c, unit) for c in codes],
        "contracts": [deal(c, f"HT-{unit[:2]}-{c[-6:]}") for c in codes],
        "cards": [card_row(uscc=c) for c in codes],
        "risk": [],
        **events,
    }
    folder.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.combine(QUARTER_END[quarter] + dt.timedelta(days=10), dt.time())
    return submit(folder / f"{unit}_{quarter}.xlsx", info(unit, quarter, submitted_on=when), rows)


def run(register: Path, inbox: Path, **over: Any):
    return merge(MergeSettings(register=register, inbox=inbox, today=TODAY, **over))


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def codes_of(register: Path, sheet: str, unit: str | None = None) -> list[str]:
    return sorted(
        r["统一社会信用代码"]
        for r in sheet_rows(register, sheet)
        if unit is None or r["来源单位"] == unit
    )


def test_later_quarter_replaces_the_branch_state_and_lists_what_left(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    quarter_file(tmp_path / "q1", A, "2026Q1", CODES[A][:4])
    quarter_file(tmp_path / "q1", B, "2026Q1", CODES[B][:2])
    run(reg, tmp_path / "q1")
    quarter_file(tmp_path / "q2", A, "2026Q2", CODES[A][:3])  # B does not submit
    result = run(reg, tmp_path / "q2")
    for sheet in (REG_ROSTER.sheet, CARDS.sheet, CONTRACTS.sheet):
        assert codes_of(reg, sheet, A) == sorted(CODES[A][:3]), sheet  # each once
        assert codes_of(reg, sheet, B) == sorted(CODES[B][:2]), sheet  # B's state stays
    assert {r["报送季度"] for r in sheet_rows(reg, CONTRACTS.sheet) if r["来源单位"] == A} == {
        "2026Q2"
    }
    changes = {(c["统一社会信用代码"], c["变更类型"]) for c in sheet_rows(reg, CHANGES.sheet)}
    gone = CODES[A][3]
    assert (gone, "移除客户") in changes and (gone, "移除合同") in changes
    assert result.files[0].merged == result.files[0].rows_in


def test_an_older_quarter_arriving_late_does_not_replace_newer_state(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    day = dt.date(2026, 2, 1)
    quarter_file(tmp_path / "q2", A, "2026Q2", CODES[A][:2])
    run(reg, tmp_path / "q2")
    quarter_file(tmp_path / "q1", A, "2026Q1", CODES[A][:5], reception=[visit(CODES[A][0], day)])
    late = run(reg, tmp_path / "q1").files[0]
    assert codes_of(reg, CONTRACTS.sheet) == sorted(CODES[A][:2])
    assert codes_of(reg, REG_ROSTER.sheet) == sorted(CODES[A][:2])
    assert codes_of(reg, RECEPTION.sheet) == [CODES[A][0]]  # its events still merge
    assert (late.merged, late.duplicate, late.rejected) == (1, 15, 0)
    assert late.rows_in == late.merged + late.duplicate + late.rejected
    assert "2026Q2" in late.reason


def test_a_refiled_event_is_a_duplicate_and_a_closed_entry_updates(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    c = CODES[A][0]
    seen, fixed = dt.date(2026, 2, 3), dt.date(2026, 2, 10)
    quarter_file(tmp_path / "q1", A, "2026Q1", [c], reception=[visit(c, seen)],
                 maintenance=[care(c, A, fixed, closed=False)])  # fmt: skip
    run(reg, tmp_path / "q1")
    quarter_file(
        tmp_path / "q2", A, "2026Q2", [c],
        reception=[visit(c, seen), visit(c, dt.date(2026, 5, 5), "签约")],
        maintenance=[care(c, A, fixed, closed=True)],
    )  # fmt: skip
    out = run(reg, tmp_path / "q2").files[0]
    visits = sheet_rows(reg, RECEPTION.sheet)
    assert sorted((_day(r["日期"]), r["报送季度"]) for r in visits) == [
        (seen, "2026Q1"),  # the first filing stays
        (dt.date(2026, 5, 5), "2026Q2"),
    ]
    entries = sheet_rows(reg, MAINTENANCE.sheet)
    assert [(e["是否闭环"], e["报送季度"]) for e in entries] == [("是", "2026Q2")]
    assert (out.rows_in, out.merged, out.duplicate) == (6, 5, 1)
    assert "更新" in out.reason


def test_two_entries_of_one_file_with_one_key_are_both_kept(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    c = CODES[A][0]
    day = dt.date(2026, 2, 3)
    quarter_file(tmp_path / "q1", A, "2026Q1", [c],
                 reception=[visit(c, day), visit(c, day, result="待跟进")])  # fmt: skip
    run(reg, tmp_path / "q1")
    assert len(sheet_rows(reg, RECEPTION.sheet)) == 2


def test_a_register_past_the_sheet_limit_is_refused_before_writing(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    quarter_file(tmp_path / "q1", A, "2026Q1", CODES[A][:3])
    run(reg, tmp_path / "q1", limits=SheetLimits(rows=4))  # 3 rows + header fit
    before = reg.read_bytes()
    quarter_file(tmp_path / "q2", B, "2026Q1", CODES[B][:2])
    with pytest.raises(UsageError) as err:
        run(reg, tmp_path / "q2", limits=SheetLimits(rows=4))
    assert "“合同台账”需要 6 行" in str(err.value) and "按单位分拆" in str(err.value)
    assert reg.read_bytes() == before  # nothing written, no temporary file left
    assert not [p for p in tmp_path.iterdir() if "tmp" in p.name or "归档" in p.name]
    with pytest.raises(UsageError, match="列"):
        run(reg, tmp_path / "q2", limits=SheetLimits(columns=5))


def _events_2024(code: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "reception": [visit(code, dt.date(2024, 5, 6)), visit(code, dt.date(2026, 1, 9))],
        "maintenance": [
            care(code, A, dt.date(2024, 6, 1), closed=True),
            care(code, A, dt.date(2024, 7, 1), closed=False, summary="整改跟踪"),
        ],
        "risk": [report(code, dt.date(2024, 8, 8))],
    }


def test_old_years_move_to_an_archive_that_is_never_rewritten(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    c = CODES[A][0]
    quarter_file(tmp_path / "q1", A, "2026Q1", [c], **_events_2024(c))
    run(reg, tmp_path / "q1")
    year = archive_path(reg, 2024)
    assert archive_files(reg) == {2024: [year]}
    book = calamine.load_workbook(str(year))
    visits = book.get_sheet_by_name(RECEPTION.sheet).to_python()
    assert visits[0][-3:] == ["来源单位", "来源文件", "报送季度"]
    assert [r[0].year for r in visits[1:]] == [2024]
    assert [r["日期"].year for r in sheet_rows(reg, RECEPTION.sheet)] == [2026]
    # The open 2024 entry stays (open_issue_overdue looks at it), the closed one left.
    assert [e["是否闭环"] for e in sheet_rows(reg, MAINTENANCE.sheet)] == ["否"]
    assert sheet_rows(reg, RISK.sheet) == []
    stamp, data = year.stat().st_mtime_ns, year.read_bytes()
    # Next quarter: the 2024 events filed again are duplicates, the open entry is closed
    # (an update: it leaves for a supplement, the year's archive is not rewritten).
    events = _events_2024(c)
    events["maintenance"][1] = care(c, A, dt.date(2024, 7, 1), closed=True, summary="整改跟踪")
    quarter_file(tmp_path / "q2", A, "2026Q2", [c], **events)
    out = run(reg, tmp_path / "q2").files[0]
    assert year.stat().st_mtime_ns == stamp and year.read_bytes() == data
    supplement = archive_path(reg, 2024, 1)
    assert archive_files(reg) == {2024: [year, supplement]}
    extra = calamine.load_workbook(str(supplement)).get_sheet_by_name(MAINTENANCE.sheet)
    assert [r[-2] for r in extra.to_python()[1:]] == [f"{A}_2026Q2.xlsx"]
    assert sheet_rows(reg, MAINTENANCE.sheet) == []
    assert (out.merged, out.duplicate) == (3 + 1, 4)  # state 3 + the update; 4 repeats
    assert out.rows_in == out.merged + out.duplicate + out.rejected
    # The same files again: nothing changes, no new archive file.
    quarter_file(tmp_path / "q3", A, "2026Q3", [c], **events)
    run(reg, tmp_path / "q3")
    assert archive_files(reg) == {2024: [year, supplement]}


def _maintenance_keys(reg: Path) -> list[tuple[Any, ...]]:
    """(date, summary, closed) of every maintenance entry in the register and its archives."""
    books = [reg] + [p for ps in archive_files(reg).values() for p in ps]
    return sorted(
        (_day(r["日期"]), r["内容摘要"], r["是否闭环"])
        for book in books
        for r in sheet_rows(book, MAINTENANCE.sheet)
    )


def test_an_archived_closed_entry_filed_again_as_open_is_a_duplicate(tmp_path: Path) -> None:
    """Each event once over the register and its archives: the archived (closed) version
    stands, the open copy a branch files again counts as a duplicate; a new old entry that
    is still open stays in the register."""
    reg = tmp_path / "集团大客户名录.xlsx"
    c = CODES[A][0]
    quarter_file(tmp_path / "q1", A, "2026Q1", [c], **_events_2024(c))
    run(reg, tmp_path / "q1")
    before = _maintenance_keys(reg)
    assert (dt.date(2024, 6, 1), "回访工程进度", "是") in before  # archived, closed
    events = {
        "maintenance": [
            care(c, A, dt.date(2024, 6, 1), closed=False),  # the archived one, open again
            care(c, A, dt.date(2024, 7, 1), closed=False, summary="整改跟踪"),  # stored
            care(c, A, dt.date(2024, 9, 1), closed=False, summary="新发现问题"),  # new, open
        ]
    }
    quarter_file(tmp_path / "q2", A, "2026Q2", [c], **events)
    out = run(reg, tmp_path / "q2").files[0]
    after = _maintenance_keys(reg)
    assert after == sorted([*before, (dt.date(2024, 9, 1), "新发现问题", "否")])
    assert [(_day(r["日期"]), r["是否闭环"]) for r in sheet_rows(reg, MAINTENANCE.sheet)] == [
        (dt.date(2024, 7, 1), "否"),
        (dt.date(2024, 9, 1), "否"),
    ]
    assert (out.merged, out.duplicate) == (3 + 1, 2)  # state 3 + the new entry; 2 repeats
    assert out.rows_in == out.merged + out.duplicate + out.rejected


def test_kam_risk_reads_the_archive_when_its_window_needs_it(tmp_path: Path) -> None:
    reg = tmp_path / "集团大客户名录.xlsx"
    c = CODES[A][0]
    quarter_file(tmp_path / "q1", A, "2026Q1", [c], risk=[report(c, dt.date(2024, 11, 2))])
    run(reg, tmp_path / "q1")
    assert sheet_rows(reg, RISK.sheet) == [] and archive_files(reg)
    rules = load_rules()
    wide = rules.model_copy(update={"risk": rules.risk.model_copy(update={"report_quarters": 8})})
    near = register_risk(reg, rules).to_json()["customers"]
    far = register_risk(reg, wide).to_json()["customers"]
    assert "reported_risk" not in _rules_fired(near)
    assert "reported_risk" in _rules_fired(far)


def _rules_fired(customers: list[dict[str, Any]]) -> set[str]:
    return {r["rule"] for cust in customers for r in cust["reasons"]}


def test_hand_edits_survive_a_replacement_or_are_listed(tmp_path: Path) -> None:
    import openpyxl

    reg = tmp_path / "集团大客户名录.xlsx"
    quarter_file(tmp_path / "q1", A, "2026Q1", CODES[A][:3])
    run(reg, tmp_path / "q1")
    wb = openpyxl.load_workbook(reg)
    ws = wb[REG_ROSTER.sheet]
    head = [c.value for c in ws[1]]
    note, code = head.index("HQ备注") + 1, head.index("统一社会信用代码") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, note, f"HQ 看过 {ws.cell(r, code).value}")
    ct = wb[CONTRACTS.sheet]
    ct.cell(2, [c.value for c in ct[1]].index("项目名称") + 1, "HQ 改过的项目名")
    wb.save(reg)
    quarter_file(tmp_path / "q2", A, "2026Q2", CODES[A][1:3])
    result = run(reg, tmp_path / "q2").to_json()["hand_edits"]
    roster = sheet_rows(reg, REG_ROSTER.sheet)
    assert {r["统一社会信用代码"]: r["HQ备注"] for r in roster} == {
        k: f"HQ 看过 {k}" for k in CODES[A][1:3]
    }  # HQ's column survives the replacement by key
    reasons = [e["reason"] for e in result["lost"]]
    assert any("不在新名录" in r for r in reasons)  # the removed customer's HQ备注
    assert any("重新报送" in r and "2026Q1" in r for r in reasons)  # the edited contract row


SLOTS = [(u, q) for u in (A, B) for q in ("2026Q1", "2026Q2", "2026Q3")]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[str, str, list[str]]], dict[Any, Any]]:
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(SLOTS),
                st.lists(st.integers(1, 5), max_size=3, unique=True),
            ),
            min_size=1,
            max_size=4,
        )
    )
    events = {
        slot: draw(st.lists(st.sampled_from(_EVENT_POOL), max_size=3, unique=True))
        for slot in SLOTS
    }
    # Customer 0 is always on the roster: the events are about it.
    return [(u, q, [CODES[u][i] for i in sorted({0, *idx})]) for (u, q), idx in steps], events


_EVENT_POOL = [
    ("reception", dt.date(2024, 3, 3)),
    ("reception", dt.date(2025, 9, 9)),
    ("reception", dt.date(2026, 1, 20)),
    ("maintenance", dt.date(2024, 4, 4)),
    ("maintenance", dt.date(2026, 2, 2)),
    ("risk", dt.date(2024, 10, 10)),
]


def _event_rows(unit: str, picks: list[tuple[str, dt.date]]) -> dict[str, list[dict[str, Any]]]:
    c = CODES[unit][0]
    out: dict[str, list[dict[str, Any]]] = {"reception": [], "maintenance": [], "risk": []}
    for kind, day in picks:
        if kind == "reception":
            out[kind].append(visit(c, day))
        elif kind == "maintenance":
            out[kind].append(care(c, unit, day, closed=True))
        else:
            out[kind].append(report(c, day))
    return out


def _all_events(reg: Path) -> list[tuple[str, str, str]]:
    """Every (sheet, unit, date) held by the register and its archive files, with repeats."""
    books = [reg, *(p for ps in archive_files(reg).values() for p in ps)]
    out = []
    for book in books:
        for form, col in ((RECEPTION, "日期"), (MAINTENANCE, "日期"), (RISK, "发现日期")):
            for r in sheet_rows(book, form.sheet):
                out.append((form.id, r["来源单位"], _day(r[col]).isoformat()))
    return sorted(out)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(histories())
def test_sequences_of_quarters_keep_latest_state_and_every_event_once(
    tmp_path_factory: pytest.TempPathFactory, history: tuple[list[Any], dict[Any, Any]]
) -> None:
    steps, events = history
    root = tmp_path_factory.mktemp("quarters")
    reg = root / "集团大客户名录.xlsx"
    latest: dict[str, tuple[str, list[str]]] = {}
    sent: set[tuple[str, str, str]] = set()
    seen: set[tuple[str, str, tuple[str, ...]]] = set()  # the files sent, by content
    for n, (unit, quarter, codes) in enumerate(steps):
        inbox = root / f"in{n}"
        quarter_file(inbox, unit, quarter, codes, **_event_rows(unit, events[(unit, quarter)]))
        out = run(reg, inbox).files[0]
        assert out.rows_in == out.merged + out.rejected + out.duplicate
        # The same bytes sent again are that earlier submission, with its first-seen stamp:
        # they do not displace a later correction of the quarter (a superseded file).
        again = (unit, quarter, tuple(codes)) in seen
        seen.add((unit, quarter, tuple(codes)))
        if not again and quarter >= latest.get(unit, ("", []))[0]:
            latest[unit] = (quarter, codes)
        sent |= {(k, unit, d.isoformat()) for k, d in events[(unit, quarter)]}
        for u, (_, want) in latest.items():
            for sheet in (REG_ROSTER.sheet, CARDS.sheet, CONTRACTS.sheet):
                assert codes_of(reg, sheet, u) == sorted(want), (sheet, u)
        assert _all_events(reg) == sorted(sent)
        assert_cache_matches_book(reg)  # what the next merge reads is what the book holds


@pytest.mark.parametrize(
    ("as_of", "risk", "archive", "start"),
    [
        (dt.date(2026, 12, 31), {}, {}, dt.date(2026, 1, 1)),
        (dt.date(2026, 3, 31), {}, {}, dt.date(2025, 4, 1)),  # four latest quarters
        (dt.date(2026, 12, 31), {"top_contact_months": 24}, {}, dt.date(2025, 1, 1)),
        (dt.date(2026, 12, 31), {}, {"keep_quarters": 1}, dt.date(2026, 1, 1)),  # the year
        (
            dt.date(2026, 12, 31),
            {"top_contact_months": 1},
            {"keep_quarters": 1, "keep_current_year": False},
            dt.date(2026, 7, 1),  # report_quarters = 2: from the previous quarter's start
        ),
    ],
)
def test_the_register_keeps_the_longest_window_of_rules_and_settings(
    as_of: dt.date, risk: dict[str, Any], archive: dict[str, Any], start: dt.date
) -> None:
    from kam.register.archive import keep_from

    base = load_rules()
    rules = base.model_copy(
        update={
            "risk": base.risk.model_copy(update=risk),
            "archive": base.archive.model_copy(update=archive),
        }
    )
    assert keep_from(as_of, rules) == start
