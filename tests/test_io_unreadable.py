"""The safe reader: every bad file is refused with a specific Chinese reason, good ones read.

Also covers the isolation (a child that aborts, segfaults, runs out of memory or hangs is
reported, never fatal), the formula/error scan of worksheet XML and the grid codec.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from badfiles import (
    BAD_FILES,
    CONTROL_TEXT,
    MAIN_NS,
    SHEET,
    good_workbook,
    patched_workbook,
    write_all,
    write_control_chars,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kam.errors import UnreadableFileError
from kam.findings import column_letter
from kam.io import sheet_scan
from kam.io.files import ReadLimits, load_raw, read_grids
from kam.io.grid_codec import pack_grid, unpack_grid
from kam.io.isolate import Isolated, gather

KEY_PHRASE = {
    "empty": "文件是空的",
    "random": "无法识别的文件格式",
    "csv": "CSV/文本文件",
    "html": "网页（HTML）",
    "pdf": "PDF 文件",
    "legacy_xls": "Excel 97-2003 文件（.xls），请在 Excel 中另存为 .xlsx",
    "legacy_doc": "旧版 Office 文档",
    "encrypted": "文件已加密（设有打开密码），请在 Excel 中取消密码后另存为 .xlsx",
    "encrypted_damaged": "文件已加密",
    "truncated": "损坏或不完整",
    "plain_zip": "没有 Excel 工作簿",
    "docx": "Word 文档",
    "ods": "OpenDocument 表格（.ods）",
    "xlsb": "二进制工作簿（.xlsb）",
    "xml2003": "Excel 2003 XML 表格",
    "csv_gbk": "CSV/文本文件",
    "duplicate_entry": "“xl/worksheets/sheet1.xml”重复",
    "zip_bomb": "压缩比异常",
    "xml_bomb": "不安全的 XML 声明（DOCTYPE/ENTITY，位于“xl/sharedStrings.xml”）",
    "xxe": "不安全的 XML 声明（DOCTYPE/ENTITY，位于“xl/workbook.xml”）",
    "zero_sheets": "没有可读取的工作表",
    "chart_only": "没有可读取的工作表",
    "broken_xml": "XML 无法解析",
    "bad_shared_string": "无法解析工作簿",
}
QUICK = ReadLimits(timeout_s=20)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("bad"))


def test_every_bad_kind_has_a_key_phrase() -> None:
    assert set(KEY_PHRASE) == set(BAD_FILES)


@pytest.mark.parametrize("kind", sorted(KEY_PHRASE))
def test_bad_file_is_refused_with_its_reason(kind: str, bad_files: dict[str, Path]) -> None:
    path = bad_files[kind]
    with pytest.raises(UnreadableFileError) as info:
        load_raw(path, QUICK)
    err = info.value
    assert KEY_PHRASE[kind] in err.reason
    assert "请" in err.reason  # every reason says what to do
    assert err.file == path.name
    assert err.reason_en and err.reason_en != err.reason
    assert str(err).startswith(path.name)


def test_parent_survives_all_bad_files_then_reads_a_good_one(
    bad_files: dict[str, Path], tmp_path: Path
) -> None:
    for path in bad_files.values():
        with pytest.raises(UnreadableFileError):
            load_raw(path, QUICK)
    book = load_raw(good_workbook(tmp_path / "good.xlsx"), QUICK)
    assert book.sheets["大客户名录"].rows[1][0] == "甲公司"


def test_hand_made_ole_files_are_real_ole(bad_files: dict[str, Path]) -> None:
    assert olefile.OleFileIO(str(bad_files["legacy_xls"])).exists("Workbook")
    assert olefile.OleFileIO(str(bad_files["encrypted"])).exists("EncryptedPackage")
    # The damaged one is refused by olefile: its reason comes from the UTF-16 name scan.
    with pytest.raises(OSError):
        olefile.OleFileIO(str(bad_files["encrypted_damaged"]))


def test_extension_is_ignored(tmp_path: Path) -> None:
    path = good_workbook(tmp_path / "报送.xls")
    assert load_raw(path, QUICK).file == "报送.xls"
    renamed = path.rename(tmp_path / "报送.csv")
    assert load_raw(renamed, QUICK).sheets["大客户名录"].rows[0][0] == "客户名称"


def test_zip_bomb_total_size_and_entry_count(bad_files: dict[str, Path], tmp_path: Path) -> None:
    total = ReadLimits(max_ratio=1e9, max_uncompressed_bytes=100 * 2**20)
    with pytest.raises(UnreadableFileError, match="解压后总大小异常"):
        load_raw(bad_files["zip_bomb"], total)
    good = good_workbook(tmp_path / "good.xlsx")
    with pytest.raises(UnreadableFileError, match="内部部件，上限 5"):
        load_raw(good, ReadLimits(max_entries=5))
    with pytest.raises(UnreadableFileError, match="文件过大"):
        load_raw(good, ReadLimits(max_file_bytes=1000))


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="无法打开文件"):
        load_raw(tmp_path / "nope.xlsx")


def _far_cell(tmp_path: Path, ref: str) -> Path:
    """A workbook with cells at A1 and ref and no <dimension>, so only calamine sees the range."""
    row = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
        f'<row r="1"><c r="A1"><v>1</v></c></row>'
        f'<row r="{row}"><c r="{ref}"><v>2</v></c></row></sheetData></worksheet>'
    )
    return patched_workbook(tmp_path / f"far_{ref}.xlsx", {SHEET: sheet.encode()})


def test_range_found_by_calamine_is_checked_without_dimension(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="使用范围过大（A1:J200，200 行 × 10 列"):
        load_raw(_far_cell(tmp_path, "J200"), ReadLimits(max_cells=1000))


def test_calamine_out_of_memory_is_reported(tmp_path: Path) -> None:
    # calamine allocates the dense range (17 billion cells) and aborts: only the child dies.
    with pytest.raises(UnreadableFileError, match="内存不足"):
        load_raw(_far_cell(tmp_path, "XFD1048576"), QUICK)


def test_good_workbook_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        date = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws = wb.add_worksheet("名录")
        ws.write_row(0, 0, ["名称", "金额", "日期", "空", "公式"])
        ws.write_row(1, 0, ["甲公司", 12.5])
        ws.write_datetime(1, 2, dt.datetime(2024, 3, 1), date)
        ws.write_formula(1, 4, "=B2*2", None, 25)
        ws.write_row(2, 0, ["乙", 7])
        ws.write_formula(2, 4, "=1/0", None, "#DIV/0!")
        ws.write_boolean(3, 0, True)
        wb.add_chartsheet("图").set_chart(_chart(wb))
        offset = wb.add_worksheet("偏移")
        offset.write("C3", "起点")
        offset.write("D4", 1.5)
        wb.add_worksheet("空表")
    book = load_raw(path, QUICK)
    assert list(book.sheets) == ["名录", "偏移", "空表"]  # chart sheet skipped
    main = book.sheets["名录"]
    assert main.rows == [
        ["名称", "金额", "日期", "空", "公式"],
        ["甲公司", 12.5, dt.date(2024, 3, 1), "", 25.0],
        ["乙", 7.0, "", "", "#DIV/0!"],
        [True, "", "", "", ""],
    ]
    assert main.formulas == {(1, 4), (2, 4)}
    shifted = book.sheets["偏移"].rows
    assert shifted[2][2] == "起点" and shifted[3][3] == 1.5  # C3 is rows[2][2]
    assert len(shifted) == 4 and all(len(r) == 4 for r in shifted)
    assert book.sheets["空表"].rows == []


def _chart(wb: xlsxwriter.Workbook) -> object:
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "='名录'!$B$2:$B$3"})
    return chart


def test_control_characters_are_kept(tmp_path: Path) -> None:
    rows = load_raw(write_control_chars(tmp_path), QUICK).sheets["Sheet1"].rows
    assert rows == [[CONTROL_TEXT], ["tab\there"]]


def test_inline_string_header_with_nul_reads_as_python_calamine(tmp_path: Path) -> None:
    xml = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a_x0000_b</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    path = patched_workbook(tmp_path / "nul.xlsx", {SHEET: xml.encode()})
    marks = sheet_scan.scan_parts(str(path), {"S": SHEET})["S"]
    assert marks.inline_strings and marks.nul_chars
    rows = load_raw(path, QUICK).sheets["大客户名录"].rows
    assert rows == [["a\x00b"], ["x"]]
    assert dict(read_grids(str(path), QUICK, ["大客户名录"]))["大客户名录"] == pack_grid(rows)


def test_prefixed_xml_and_cells_without_ref(tmp_path: Path) -> None:
    prefixed = (
        f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN_NS}"><x:dimension ref="B2:C3"/>'
        '<x:sheetData><x:row r="2"><x:c r="B2"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
        '<x:c r="C2" t="e"><x:v>#N/A</x:v></x:c></x:row><x:row r="3">'
        '<x:c r="C3" t="e"><x:f t="shared" ref="C3" si="0">1/0</x:f><x:v>#DIV/0!</x:v></x:c>'
        "</x:row></x:sheetData></x:worksheet>"
    )
    sheet = load_raw(patched_workbook(tmp_path / "p.xlsx", {SHEET: prefixed.encode()}))
    raw = sheet.sheets["大客户名录"]
    assert raw.rows == [["", "", ""], ["", 2.0, "#N/A"], ["", "", "#DIV/0!"]]
    assert raw.formulas == {(1, 1), (2, 2)}
    no_ref = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
        "<row><c><v>1</v></c><c><f>A1+1</f><v>2</v></c></row>"
        '<row><c/><c t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData></worksheet>'
    )
    raw = load_raw(patched_workbook(tmp_path / "n.xlsx", {SHEET: no_ref.encode()}))
    assert raw.sheets["大客户名录"].rows == [[1.0, 2.0], ["", "#DIV/0!"]]
    assert raw.sheets["大客户名录"].formulas == {(0, 1), (1, 1)}


def test_scan_ignores_formulas_outside_cells() -> None:
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" s="1"><v>{r}</v></c>'
        f'<c r="B{r}"><f t="shared" si="0"/><v>1</v></c></row>'
        for r in range(1, 40)
    )
    xml = (
        f'<worksheet xmlns="{MAIN_NS}" xmlns:xm="urn:xm"><sheetData>{cells}</sheetData>'
        "<extLst><ext><x14:dataValidation><x14:formula1><xm:f>Sheet2!$A$1</xm:f>"
        "</x14:formula1></x14:dataValidation></ext></extLst></worksheet>"
    ).encode()
    marks = sheet_scan.scan_chunks(
        sheet_scan.stream_chunks(io.BytesIO(xml), 64)
    )  # many segments and carries
    assert marks.formulas == {(r, 1) for r in range(39)}
    assert (
        sheet_scan.scan_positional(sheet_scan.stream_chunks(io.BytesIO(xml), 64)).formulas
        == marks.formulas
    )


def test_scan_places_formulas_by_each_cells_own_ref() -> None:
    """Refs are searched in one go over all formula cells; a cell without r next to one with
    two (crafted) must not shift the others' places: the sheet is then counted instead."""
    rows = (
        '<row r="1"><c r="A1"><f>1</f><v>1</v></c></row>'
        "<row r=\"2\"><c><f>2</f><v>2</v></c><c r='B2' r='C9'><f>3</f><v>3</v></c></row>"
    )
    xml = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData></worksheet>'.encode()
    with pytest.raises(sheet_scan._NoRef):
        sheet_scan.scan_chunks([xml])
    assert sheet_scan.scan_positional([xml]).formulas == {(0, 0), (1, 0), (1, 1)}
    plain = xml.replace(b"<c><f>2", b'<c r="A2"><f>2').replace(b" r='C9'", b"")
    assert sheet_scan.scan_chunks([plain]).formulas == {(0, 0), (1, 0), (1, 1)}


@given(
    cells=st.dictionaries(
        st.tuples(st.integers(0, 30), st.integers(0, 30)),
        st.sampled_from(["value", "formula", "error", "formula_error"]),
        max_size=40,
    ),
    prefix=st.sampled_from(["", "x:"]),
    with_ref=st.booleans(),
    chunk=st.integers(16, 4096),
    decoys=st.booleans(),
)
def test_scan_finds_exactly_the_formula_and_error_cells(
    cells: dict[tuple[int, int], str],
    prefix: str,
    with_ref: bool,
    chunk: int,
    decoys: bool,
) -> None:
    xml = _sheet_xml(cells, prefix, with_ref, decoys)
    scan = sheet_scan.scan_chunks if with_ref else sheet_scan.scan_positional
    marks = scan(sheet_scan.stream_chunks(io.BytesIO(xml), chunk))
    assert marks.formulas == {k for k, v in cells.items() if v.startswith("formula")}
    assert marks.errors == {k: "#N/A" for k, v in cells.items() if v.endswith("error")}
    if with_ref:
        assert sheet_scan.scan_positional(sheet_scan.stream_chunks(io.BytesIO(xml), chunk)) == marks


def _sheet_xml(
    cells: dict[tuple[int, int], str], p: str, with_ref: bool, decoys: bool = False
) -> bytes:
    """Worksheet XML for cells; without refs, gaps are filled with empty <c/> elements.

    decoys: a header and a tail full of the letters f, e and d, and comments that look like
    the end of sheetData between rows, where the scan must not stop looking.
    """
    head = f'<{p}sheetFormatPr defaultRowHeight="15"/><!-- <{p}sheetData> -->' if decoys else ""
    out = [f'<{p}worksheet xmlns{":x" if p else ""}="{MAIN_NS}">{head}<{p}sheetData>']
    for r in sorted({r for r, _ in cells}):
        if decoys:
            out.append(f"<!-- </{p}sheetData> -->")
        out.append(f'<{p}row r="{r + 1}">')
        cols = sorted(c for rr, c in cells if rr == r)
        for c in range(cols[-1] + 1) if not with_ref else cols:
            kind = cells.get((r, c))
            ref = f' r="{column_letter(c)}{r + 1}"' if with_ref else ""
            if kind is None:
                out.append(f"<{p}c{ref}/>")
                continue
            t = ' t="e"' if kind.endswith("error") else ""
            f = f"<{p}f>A1+1</{p}f>" if kind.startswith("formula") else ""
            v = "#N/A" if t else "1"
            out.append(f"<{p}c{ref}{t}>{f}<{p}v>{v}</{p}v></{p}c>")
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData>")
    if decoys:
        out.append(
            f'<{p}dataValidations><{p}dataValidation type="date"><{p}formula1>1</{p}formula1>'
            f"</{p}dataValidation></{p}dataValidations><!-- </{p}sheetData> -->"
        )
    out.append(f"</{p}worksheet>")
    return "".join(out).encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
        min_size=1,
        max_size=6,
    )
)
@example(["\x00", ""])  # fastexcel drops U+0000 from header names
@example(["a\x00b", "x"])
def test_any_text_round_trips(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    path = tmp_path_factory.mktemp("text") / "t.xlsx"
    with xlsxwriter.Workbook(str(path), {"strings_to_numbers": False}) as wb:
        ws = wb.add_worksheet("S")
        for i, text in enumerate(texts):
            ws.write_string(i, 0, text)
    rows = load_raw(path, QUICK).sheets["S"].rows
    got = [r[0] for r in rows]
    assert got[: len(texts)] == texts + [""] * (len(got) - len(texts))


NOT_ZIP = st.one_of(st.binary(min_size=1, max_size=600), st.text(min_size=1).map(str.encode))


@settings(max_examples=200, deadline=None)
@given(NOT_ZIP.filter(lambda b: not b.startswith((b"PK", bytes.fromhex("D0CF11E0")))))
def test_any_other_bytes_are_refused(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "x.xlsx"
    path.write_bytes(data)  # no zip or OLE magic: refused by the sniff, no child needed
    with pytest.raises(UnreadableFileError) as info:
        load_raw(path, QUICK)
    assert "请" in info.value.reason


GOOD = io.BytesIO()
good_workbook(GOOD)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_workbook_is_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    raw = bytearray(GOOD.getvalue())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    path = tmp_path_factory.mktemp("damaged") / "d.xlsx"
    path.write_bytes(bytes(raw[:cut]))
    try:
        book = load_raw(path, QUICK)
    except UnreadableFileError as err:
        assert "请" in err.reason
    else:
        assert all(isinstance(sheet.rows, list) for sheet in book.sheets.values())


CELL = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", "\x00", "\x1f", "\ufdd0", "\ufdd1", "a\x00b\x1f\ufdd0\ufdd1"]),
    st.floats(allow_nan=False),
    st.dates(),
    st.datetimes(),
    st.booleans(),
    st.integers(),
    st.times(),
)


@given(st.integers(0, 5).flatmap(lambda w: st.lists(st.lists(CELL, min_size=w, max_size=w))))
def test_grid_codec_round_trips(rows: list[list[object]]) -> None:
    out = unpack_grid(pack_grid(rows))
    assert out == rows
    assert [list(map(type, r)) for r in out] == [list(map(type, r)) for r in rows]


# Isolation: module-level functions so they pickle under 'spawn' too.


def _add(a: int, b: int) -> Iterator[int]:
    yield a + b


def _abort() -> None:
    os.abort()


def _quit() -> None:
    os._exit(3)  # a native library that calls exit()


def _segfault() -> None:
    ctypes.string_at(0)


def _allocate() -> bytes:
    return bytes(2 * 2**30)


def _sleep() -> None:
    time.sleep(30)


def _refuse() -> None:
    raise UnreadableFileError("x.xlsx", "子进程拒绝：请重试", "child refused")


def _bug() -> None:
    raise KeyError("boom")


SMALL = ReadLimits(timeout_s=5, memory_bytes=256 * 2**20)


def run_isolated(func, args: tuple, limits: ReadLimits, file: str = "") -> list:
    """Every item func(*args) yields in a child process under limits."""
    job = Isolated(func, args, limits, file)
    try:
        return list(gather([job]))
    finally:
        job.cancel()


def test_run_isolated_returns_the_value() -> None:
    assert run_isolated(_add, (2, 3), SMALL) == [5]


@pytest.mark.parametrize(
    ("func", "phrase"),
    [
        (_abort, f"解析程序异常终止（信号 {signal.SIGABRT.value}）"),
        (_segfault, f"解析程序异常终止（信号 {signal.SIGSEGV.value}）"),
        (_quit, "解析程序异常退出（退出码 3）"),
        (_allocate, "内存不足"),
        (_refuse, "子进程拒绝：请重试"),
        (_bug, "读取时出错，文件可能已损坏"),
    ],
)
def test_child_failure_is_reported(func, phrase: str) -> None:
    with pytest.raises(UnreadableFileError) as info:
        run_isolated(func, (), SMALL, "坏.xlsx")
    assert phrase in info.value.reason
    assert info.value.file == "坏.xlsx"
    if func is _bug:  # the library's words stay out of the Chinese text, in the English one
        assert "KeyError" in info.value.reason_en and "KeyError" not in info.value.reason
    if func in (_abort, _segfault):  # the signal's English name only in the English text
        name = "SIGABRT" if func is _abort else "SIGSEGV"
        assert name in info.value.reason_en and "SIG" not in info.value.reason


def test_child_timeout_is_reported() -> None:
    started = time.monotonic()
    with pytest.raises(UnreadableFileError, match=r"读取超时（超过 0\.5 秒）"):
        run_isolated(_sleep, (), ReadLimits(timeout_s=0.5), "慢.xlsx")
    assert time.monotonic() - started < 10  # killed, not waited for
