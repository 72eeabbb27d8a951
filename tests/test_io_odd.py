"""Files that must not stall a merge, and files refused with their own Chinese reason:
a long repeated header row, thousands of sheets, a stale <dimension>, Excel 4.0 macro
sheets, a huge workbook.xml, FIFOs, folders, Apple Numbers, BIFF2-4 .xls, OS errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from badfiles import write_absurd_dimension

from kam.errors import UnreadableFileError
from kam.io.files import ReadLimits, load_raw, open_sheets
from kam.io.sniff import MAX_META_PART

# A stall shows up as a timeout refusal: these limits make it a failure, not a minute.
FAST = ReadLimits(timeout_s=10)
ENGLISH = re.compile(r"[A-Za-z]{4,}")  # no English words in a Chinese reason ("xlsx" aside)


def chinese_only(reason: str) -> bool:
    allowed = {"excel", "xlsx", "biff", "numbers"}
    return not [w for w in ENGLISH.findall(reason) if w.lower() not in allowed]


def test_long_repeated_header_row_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("大客户名录")
    for c in range(8000):
        ws.write_string(0, c, "客户名称")
    ws.write_string(1, 0, "甲")
    wb.close()
    sheet = load_raw(path, FAST).sheets["大客户名录"]
    assert sheet.rows is not None and len(sheet.rows[0]) == 8000  # python-calamine's grid


def test_thousands_of_sheets_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    for i in range(3000):
        wb.add_worksheet(f"S{i}").write(0, 0, i)
    wb.close()
    with pytest.raises(UnreadableFileError) as err:
        load_raw(path, FAST)
    assert "3000 个工作表" in err.value.reason and "上限 255" in err.value.reason


def test_stale_dimension_falls_back_to_the_real_extent(tmp_path: Path) -> None:
    path = write_absurd_dimension(tmp_path)
    book = load_raw(path, FAST)
    assert book.sheets and all(len(s.rows or s.columns[0]) < 1000 for s in book.sheets.values())


def _with_macro_sheet(tmp_path: Path) -> Path:
    base = tmp_path / "base.xlsx"
    wb = xlsxwriter.Workbook(str(base))
    ws = wb.add_worksheet("大客户名录")
    ws.write(0, 0, "客户名称")
    ws.write(1, 0, "甲")
    wb.close()
    with zipfile.ZipFile(base) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    items["xl/workbook.xml"] = items["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="Macro1" sheetId="9" r:id="rIdM"/></sheets>'
    )
    items["xl/_rels/workbook.xml.rels"] = items["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdM" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>',
    )
    items["xl/macrosheets/sheet1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><xm:macrosheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
        b'<row r="1"><c r="A1"><f>EXEC("calc")</f></c></row></sheetData></xm:macrosheet>'
    )
    path = tmp_path / "macro.xlsm"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


def test_macro_sheet_workbook_reads_its_worksheets(tmp_path: Path) -> None:
    path = _with_macro_sheet(tmp_path)
    with open_sheets(path, FAST) as stream:
        read = {s.name: s for s in stream.sheets}
        assert stream.skipped == ["Macro1"] and stream.names == ["大客户名录"]
    assert read["大客户名录"].rows == [["客户名称"], ["甲"]]
    assert not list(Path("/tmp").glob(f"kam-read-*/{path.name}"))  # the copy is gone
    done = subprocess.run(
        [sys.executable, "-m", "kam", "validate", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout)["skipped_sheets"] == ["Macro1"], done.stderr


def _nested(tmp_path: Path, size: int) -> Path:
    """A workbook whose workbook.xml is `size` bytes of nested elements, stored uncompressed."""
    path = tmp_path / f"nested{size}.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("大客户名录").write(0, 0, "x")
    wb.close()
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    depth = size // 7
    items["xl/workbook.xml"] = items["xl/workbook.xml"].replace(
        b"</workbook>", b"<a>" * depth + b"</a>" * depth + b"</workbook>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


PEAK = (
    "import resource, sys; from pathlib import Path; from kam.io.files import load_raw\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "try:\n    load_raw(Path(sys.argv[1])); print('read')\nexcept Exception as e:\n    print(e)\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
)


@pytest.mark.parametrize("size", [MAX_META_PART - 4096, 25 << 20])
def test_huge_workbook_part_costs_the_parent_little_memory(tmp_path: Path, size: int) -> None:
    path = _nested(tmp_path, size)
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True)
    message, grew_kib = done.stdout.strip().rsplit("\n", 1)
    assert int(grew_kib) < 48 * 1024, done.stdout  # the 25 MB part: +380 MB before
    if size > MAX_META_PART:
        assert "已损坏" in message and "workbook.xml" in message


def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="不是普通文件"):
        load_raw(fifo, FAST)
    done = subprocess.run(
        [sys.executable, "-m", "kam", "validate", str(fifo), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "不是普通文件" in done.stdout


def test_folder_numbers_and_old_biff_have_their_own_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "报送.xlsx"
    folder.mkdir()
    numbers = tmp_path / "报送.numbers"
    with zipfile.ZipFile(numbers, "w") as zf:
        zf.writestr("Index/Document.iwa", b"\0" * 64)
        zf.writestr("Metadata/Properties.plist", b"plist")
    biff4 = tmp_path / "old.xls"
    biff4.write_bytes(b"\x09\x04\x06\x00\x00\x00\x10\x00" + b"\0" * 100)
    biff3 = tmp_path / "old3.xls"
    biff3.write_bytes(b"\x09\x02\x06\x00\x00\x00\x10\x00" + b"\0" * 100)
    expected = {folder: "文件夹", numbers: "苹果 Numbers", biff4: "BIFF2–4", biff3: "BIFF2–4"}
    for path, phrase in expected.items():
        with pytest.raises(UnreadableFileError) as err:
            load_raw(path, FAST)
        assert phrase in err.value.reason and chinese_only(err.value.reason), err.value.reason


def test_missing_file_reason_is_chinese(tmp_path: Path) -> None:
    link = tmp_path / "gone.xlsx"
    link.symlink_to(tmp_path / "nowhere.xlsx")
    with pytest.raises(UnreadableFileError) as err:
        load_raw(link, FAST)
    assert "不存在" in err.value.reason and chinese_only(err.value.reason)
