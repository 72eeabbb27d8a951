"""Sheets handed over as the reading children finish them, and typed as they arrive.

The result must not depend on which sheet comes first: read_arriving over any arrival order
gives read_book's submission, and a child that fails half-way still refuses the file.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from badfiles import BAD_FILES, write_all
from builders import DEFAULT_ROWS, INFO_OK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.errors import UnreadableFileError
from kam.io.files import ReadLimits, SheetQueue, load_raw, open_sheets
from kam.io.isolate import Isolated, gather, shared_counter
from kam.io.raw import RawBook, RawSheet
from kam.reader import read_arriving, read_book, read_file
from kam.submission import Submission
from kam.template import Layout, write_submission

LIMITS = ReadLimits(timeout_s=10, memory_bytes=256 * 2**20)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> RawBook:
    path = tmp_path_factory.mktemp("stream") / "报送.xlsx"
    write_submission(path, INFO_OK, DEFAULT_ROWS, layout=Layout(data_rows=5))
    return load_raw(path)


def _plain(frame: pd.DataFrame) -> dict[str, dict[int, object]]:
    """The frame's cells with every kind of missing value as None (NaN != NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict()


def _summary(sub: Submission) -> tuple[object, ...]:
    frames = {k: _plain(d.frame) for k, d in sub.sheets.items()}
    raws = {k: _plain(d.raw) for k, d in sub.sheets.items()}
    findings = [(f.rule, f.sheet, f.cell, f.message()) for f in sub.findings]
    return frames, raws, findings, sub.unknown_sheets


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_arrival_order_reads_as_read_book(book: RawBook, data: st.DataObject) -> None:
    order = data.draw(st.permutations(list(book.sheets)))
    arrived = data.draw(st.sets(st.sampled_from(order))) if data.draw(st.booleans()) else set()
    sheets = [book.sheets[name] for name in order if name not in arrived]  # some never come
    names = list(book.sheets)
    got = read_arriving(book.file, names, iter(sheets))
    kept = RawBook(book.file, {n: s for n, s in book.sheets.items() if n not in arrived})
    assert _summary(got) == _summary(read_book(kept))


def _renamed(sheet: RawSheet, name: str) -> RawSheet:
    return RawSheet(name, sheet.rows, sheet.formulas)


def test_two_sheets_matching_one_form_read_the_last_that_came(book: RawBook) -> None:
    roster = book.sheets["大客户名录"]
    empty = RawSheet("大客户名录", [["客户名称"]])
    other = _renamed(roster, " 大客户 名录 ")  # the same name once spaces are dropped
    names = [*book.sheets, other.name]
    sheets = {**book.sheets, "大客户名录": empty, other.name: other}
    # The later tab wins, whether it comes first or last.
    for order in (list(sheets), list(reversed(sheets))):
        got = read_arriving(book.file, names, iter(sheets[n] for n in order))
        assert len(got.sheets["roster"]) == len(read_book(book).sheets["roster"])
        assert "大客户名录" in got.unknown_sheets
        assert other.name not in got.unknown_sheets
    # The later tab never comes: the earlier one is read.
    got = read_arriving(book.file, names, iter(s for n, s in sheets.items() if n != other.name))
    assert len(got.sheets["roster"]) == 0
    assert "大客户名录" not in got.unknown_sheets


def test_read_file_streams_the_same_submission_as_load_raw(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "b.xlsx", INFO_OK, DEFAULT_ROWS, layout=Layout(data_rows=5))
    with open_sheets(path, LIMITS) as stream:
        assert stream.file == "b.xlsx"
        seen = [sheet.name for sheet in stream.sheets]
    assert sorted(seen) == sorted(stream.names)  # each sheet once
    assert _summary(read_file(path, LIMITS)) == _summary(read_book(load_raw(path, LIMITS)))
    assert read_file(path, LIMITS, file="收件箱/b.xlsx").file == "收件箱/b.xlsx"


# Streaming children: module-level functions so they pickle under 'spawn' too.


def _count(n: int, tag: str) -> Iterator[str]:
    for i in range(n):
        yield f"{tag}{i}"


def _then_refuse(n: int) -> Iterator[int]:
    yield from range(n)
    raise UnreadableFileError("x.xlsx", "第三张表读不了：请重试", "refused")


def _then_die() -> Iterator[int]:
    yield 1
    os.abort()


def _then_hang() -> Iterator[int]:
    yield 1
    time.sleep(30)


def _drain(queue: SheetQueue) -> Iterator[tuple[str, str]]:
    while (taken := queue.take()) is not None:
        time.sleep(0.001)  # let the other child take some too
        yield taken


def test_children_share_one_queue_and_take_each_sheet_once() -> None:
    sheets = [(f"S{i}", f"xl/worksheets/sheet{i}.xml") for i in range(40)]
    queue = SheetQueue(sheets, shared_counter())
    got = list(gather([Isolated(_drain, (queue,), LIMITS) for _ in range(3)]))
    assert sorted(got) == sorted(sheets)


def test_gather_gives_every_item_of_every_child() -> None:
    jobs = [Isolated(_count, (50, tag), LIMITS) for tag in "ab"]
    got = list(gather(jobs))
    assert sorted(got) == sorted(f"{t}{i}" for t in "ab" for i in range(50))
    assert [x for x in got if x[0] == "a"] == [f"a{i}" for i in range(50)]  # in order


@pytest.mark.parametrize(
    ("func", "args", "phrase"),
    [
        (_then_refuse, (2,), "第三张表读不了"),
        (_then_die, (), f"解析程序异常终止（信号 {signal.SIGABRT.value}）"),
    ],
)
def test_a_child_failing_after_some_items_refuses_the_file(func, args, phrase: str) -> None:
    jobs = [Isolated(func, args, LIMITS, "坏.xlsx")]
    jobs.append(Isolated(_count, (3, "ok"), LIMITS, "坏.xlsx"))
    got = []
    with pytest.raises(UnreadableFileError) as info:
        got.extend(gather(jobs))
    for job in jobs:
        job.cancel()
    assert phrase in info.value.reason
    assert info.value.file == "坏.xlsx"
    assert 1 in got or 0 in got  # what came before the failure was handed over


def test_a_child_hanging_after_some_items_times_out() -> None:
    started = time.monotonic()
    job = Isolated(_then_hang, (), ReadLimits(timeout_s=0.5), "慢.xlsx")
    got = []
    with pytest.raises(UnreadableFileError, match=r"读取超时（超过 0\.5 秒）"):
        got.extend(gather([job]))
    job.cancel()
    assert got == [1]
    assert time.monotonic() - started < 10


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_read_file_refuses_what_load_raw_refuses(kind: str, bad_files: dict[str, Path]) -> None:
    with pytest.raises(UnreadableFileError) as streamed:
        read_file(bad_files[kind], LIMITS)
    with pytest.raises(UnreadableFileError) as whole:
        load_raw(bad_files[kind], LIMITS)
    assert streamed.value.reason == whole.value.reason
