"""Write every kind of bad (and odd-but-good) workbook file into a folder, for tests.

Each writer takes a folder and returns the path it wrote, named "<kind>.xlsx" whatever the
content is, since the reader must judge by bytes. BAD_FILES maps each kind to its writer;
write_all() writes them all. Everything is built here from scratch (xlsxwriter for the
valid base, zipfile for surgery), so no fixture files are needed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTROL_TEXT = "a\x01b\x07c\x1fd"


def good_workbook(target: Path | io.BytesIO) -> Path | io.BytesIO:
    """A small valid .xlsx: text, numbers, a date, a blank, a formula (xlsxwriter)."""
    with xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target)) as wb:
        ws = wb.add_worksheet("大客户名录")
        ws.write_row(0, 0, ["客户名称", "金额", "日期", "备注"])
        ws.write_row(1, 0, ["甲公司", 12.5])
        ws.write_datetime(
            1, 2, dt.datetime(2024, 3, 1), wb.add_format({"num_format": "yyyy-mm-dd"})
        )
        ws.write_formula(2, 1, "=B2*2", None, 25)
    return target


def _good_bytes() -> bytes:
    buf = io.BytesIO()
    good_workbook(buf)
    return buf.getvalue()


def patched_workbook(
    path: Path, replace: dict[str, bytes], extra: tuple[tuple[str, bytes], ...] = ()
) -> Path:
    """The good workbook with some parts replaced and extra entries appended."""
    with (
        zipfile.ZipFile(io.BytesIO(_good_bytes())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name" is the point of some files
            for name, data in extra:
                dst.writestr(name, data)
    return path


def write_empty(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


def write_random(folder: Path) -> Path:
    path = folder / "random.xlsx"
    path.write_bytes(os.urandom(20_000))
    return path


def write_csv(folder: Path) -> Path:
    path = folder / "csv.xlsx"
    path.write_text("客户名称,统一社会信用代码\n甲公司,91110000100000000X\n", encoding="utf-8")
    return path


def write_html(folder: Path) -> Path:
    path = folder / "html.xlsx"
    path.write_text(
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>客户</td></tr>"
        "</table></body></html>",
        encoding="utf-8",
    )
    return path


def write_pdf(folder: Path) -> Path:
    path = folder / "pdf.xlsx"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    return path


def ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal valid OLE2 compound file (version 3) holding up to three streams.

    Each stream is padded to 4096 bytes so it lives in normal sectors (no mini stream).
    """
    free, end, fat_sect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    assert 1 <= len(streams) <= 3
    data = [body.ljust(4096, b"\0") for body in streams.values()]
    fat = [fat_sect, end]  # sector 0: the FAT itself, sector 1: the directory
    starts = []
    for body in data:
        first, count = len(fat), len(body) // 512
        starts.append(first)
        fat += [first + i + 1 for i in range(count - 1)] + [end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    entries = entry("Root Entry", 5, nostream, 1, end, 0)
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else nostream
        entries += entry(name, 2, right, nostream, starts[i], len(data[i]))
    entries = entries.ljust(512, b"\0")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    return header + struct.pack("<128I", *fat) + entries + b"".join(data)


def write_legacy_xls(folder: Path) -> Path:
    path = folder / "legacy_xls.xlsx"
    bof = struct.pack("<HHHHHH", 0x0809, 8, 0x0600, 0x0005, 0, 0)  # BIFF8 workbook BOF
    path.write_bytes(ole2({"Workbook": bof}))
    return path


def write_legacy_doc(folder: Path) -> Path:
    path = folder / "legacy_doc.xlsx"
    path.write_bytes(ole2({"WordDocument": b"\xec\xa5"}))
    return path


def write_encrypted(folder: Path) -> Path:
    """A real password-protected .xlsx (password "kam"), made by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    path = folder / "encrypted.xlsx"
    with path.open("wb") as out:
        OOXMLFile(io.BytesIO(_good_bytes())).encrypt("kam", out)
    return path


def write_encrypted_damaged(folder: Path) -> Path:
    """An encrypted .xlsx whose OLE header olefile rejects (bad FAT sector index)."""
    data = bytearray(write_encrypted(folder).read_bytes())
    data[76:80] = struct.pack("<I", 0x7FFFFFF0)  # first DIFAT entry far past the end
    path = folder / "encrypted_damaged.xlsx"
    path.write_bytes(bytes(data))
    return path


def write_truncated(folder: Path) -> Path:
    path = folder / "truncated.xlsx"
    good = _good_bytes()
    path.write_bytes(good[: len(good) // 2])
    return path


def write_plain_zip(folder: Path) -> Path:
    path = folder / "plain_zip.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
        zf.writestr("data.csv", "a,b\n1,2\n")
    return path


def write_docx(folder: Path) -> Path:
    path = folder / "docx.xlsx"
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="urn:w"/>')
    return path


def write_ods(folder: Path) -> Path:
    path = folder / "ods.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return path


def write_xlsb(folder: Path) -> Path:
    path = folder / "xlsb.xlsx"
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return path


def write_xml2003(folder: Path) -> Path:
    path = folder / "xml2003.xlsx"
    path.write_text(
        '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S">'
        "</Worksheet></Workbook>",
        encoding="utf-8",
    )
    return path


def write_csv_gbk(folder: Path) -> Path:
    path = folder / "csv_gbk.xlsx"
    path.write_bytes("客户名称\t金额\n甲公司\t12\n".encode("gbk"))
    return path


def write_duplicate_entry(folder: Path) -> Path:
    return patched_workbook(folder / "duplicate_entry.xlsx", {}, ((SHEET, b"<worksheet/>"),))


def write_zip_bomb(folder: Path, megabytes: int = 300) -> Path:
    """A workbook whose first sheet unpacks to `megabytes` MB of zeros (~1 KB per MB)."""
    path = patched_workbook(folder / "zip_bomb.xlsx", {})
    with (
        zipfile.ZipFile(io.BytesIO(path.read_bytes())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != SHEET:
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open(SHEET, "w", force_zip64=True) as fh:
                fh.write(b'<?xml version="1.0"?><worksheet>')
                zeros = b"\0" * (1 << 20)
                for _ in range(megabytes):  # streamed: the test never holds it in memory
                    fh.write(zeros)
    return path


def write_xml_bomb(folder: Path) -> Path:
    """Billion laughs in sharedStrings.xml."""
    lol = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    ]
    body = (
        '<?xml version="1.0"?><!DOCTYPE sst [' + "".join(lol) + "]>"
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return patched_workbook(folder / "xml_bomb.xlsx", {"xl/sharedStrings.xml": body.encode()})


def write_xxe(folder: Path) -> Path:
    """An external entity (XXE) declared in the workbook part."""
    with zipfile.ZipFile(io.BytesIO(_good_bytes())) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    head, rest = workbook.split("?>", 1)
    evil = head + '?><!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + rest
    return patched_workbook(folder / "xxe.xlsx", {"xl/workbook.xml": evil.encode()})


def write_absurd_dimension(folder: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(_good_bytes())) as zf:
        sheet = zf.read(SHEET).decode()
    start = sheet.index("<dimension")
    end = sheet.index("/>", start) + 2
    sheet = sheet[:start] + '<dimension ref="A1:XFD1048576"/>' + sheet[end:]
    return patched_workbook(folder / "absurd_dimension.xlsx", {SHEET: sheet.encode()})


def write_zero_sheets(folder: Path) -> Path:
    """A package whose workbook lists no sheet at all."""
    with zipfile.ZipFile(io.BytesIO(_good_bytes())) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    start, end = workbook.index("<sheets>"), workbook.index("</sheets>") + len("</sheets>")
    workbook = workbook[:start] + "<sheets/>" + workbook[end:]
    return patched_workbook(folder / "zero_sheets.xlsx", {"xl/workbook.xml": workbook.encode()})


def write_chart_only(folder: Path) -> Path:
    """A workbook whose only sheet is a chart sheet."""
    path = folder / "chart_only.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        data = wb.add_worksheet("data")
        data.write_column(0, 0, [1, 2, 3])
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"values": "=data!$A$1:$A$3"})
        wb.add_chartsheet("图表").set_chart(chart)
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    start = workbook.index('<sheet name="data"')
    workbook = workbook[:start] + workbook[workbook.index("/>", start) + 2 :]
    parts["xl/workbook.xml"] = workbook.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return path


def write_broken_xml(folder: Path) -> Path:
    """A sheet whose XML closes a row inside an open cell: calamine's parser fails."""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        '<c r="A1"><v>1</v></row></sheetData></worksheet>'
    )
    return patched_workbook(folder / "broken_xml.xlsx", {SHEET: sheet.encode()})


def write_bad_shared_string(folder: Path) -> Path:
    """A cell that points past the end of the shared strings table."""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        '<c r="A1" t="s"><v>999</v></c></row></sheetData></worksheet>'
    )
    return patched_workbook(folder / "bad_shared_string.xlsx", {SHEET: sheet.encode()})


def write_control_chars(folder: Path) -> Path:
    """A valid workbook with control characters inside strings (read, not refused)."""
    path = folder / "control_chars.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        ws = wb.add_worksheet("Sheet1")
        ws.write_string(0, 0, CONTROL_TEXT)
        ws.write_string(1, 0, "tab\there")
    return path


BAD_FILES: dict[str, Callable[[Path], Path]] = {
    "empty": write_empty,
    "random": write_random,
    "csv": write_csv,
    "html": write_html,
    "pdf": write_pdf,
    "legacy_xls": write_legacy_xls,
    "legacy_doc": write_legacy_doc,
    "encrypted": write_encrypted,
    "encrypted_damaged": write_encrypted_damaged,
    "truncated": write_truncated,
    "plain_zip": write_plain_zip,
    "docx": write_docx,
    "ods": write_ods,
    "xlsb": write_xlsb,
    "xml2003": write_xml2003,
    "csv_gbk": write_csv_gbk,
    "duplicate_entry": write_duplicate_entry,
    "zip_bomb": write_zip_bomb,
    "xml_bomb": write_xml_bomb,
    "xxe": write_xxe,
    "zero_sheets": write_zero_sheets,
    "chart_only": write_chart_only,
    "broken_xml": write_broken_xml,
    "bad_shared_string": write_bad_shared_string,
}
"""Every kind of file load_raw must refuse, by kind name."""


def write_all(folder: Path) -> dict[str, Path]:
    """Write every BAD_FILES kind into folder; kind -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    return {kind: writer(folder) for kind, writer in BAD_FILES.items()}
