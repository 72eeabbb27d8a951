"""Decide from a file's bytes (never its name) whether it is a workbook we can read safely.

sniff() accepts an OOXML zip workbook (.xlsx/.xlsm, transitional or Strict) and returns
where its sheets live; anything else (empty, encrypted, legacy .xls, CSV/HTML/PDF named
.xlsx, a zip that is no workbook, a damaged or hostile zip) is refused with an
UnreadableFileError whose Chinese reason says what to do. Sizes come from the zip's
directory; parts are only read a few KB at a time, never decompressed whole.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from kam.errors import UnreadableFileError
from kam.fs import os_cause
from kam.io.refusals import ole_reason, refuse, text_reason

if TYPE_CHECKING:
    from kam.io.files import ReadLimits

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
HEAD_BYTES = 8192
PROLOG_BYTES = 4096  # of each part, to find a DOCTYPE before the root element
MAX_META_PART = 1 << 20  # rels / workbook.xml are parsed whole in the parent: keep it small
RATIO_FLOOR = 1 << 20  # entries smaller than this are never judged by their ratio
DATA_KINDS = ("worksheet",)
# Excel 4.0 macro sheets: python-calamine refuses a workbook that has one, so they are
# left out of the copy the children read (kam.io.macro_free) and listed as skipped.
MACRO_KINDS = ("xlMacrosheet", "xlIntlMacrosheet")
_WORKBOOK_TYPES = (
    "spreadsheetml.sheet.main+xml",
    "sheet.macroEnabled.main+xml",
    "spreadsheetml.template.main+xml",
    "template.macroEnabled.main+xml",
    "ms-excel.sheet.binary.macroEnabled.main",
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ROOT = re.compile(r"<[A-Za-z_:]")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class SheetPart:
    """A sheet as the workbook lists it: tab name, zip member of its XML, and its kind."""

    name: str
    part: str
    kind: str  # relationship type: worksheet, chartsheet, dialogsheet, xlMacrosheet, ...


@dataclass(frozen=True)
class Package:
    """Where an accepted workbook's parts are."""

    workbook: str
    sheets: tuple[SheetPart, ...]
    shared_strings: str = ""  # zip member of the shared string table ("" if none)

    def data_parts(self) -> dict[str, str]:
        """Sheet name -> worksheet part, for sheets that hold cells."""
        return {s.name: s.part for s in self.sheets if s.kind in DATA_KINDS}

    @property
    def macro_sheets(self) -> list[SheetPart]:
        return [s for s in self.sheets if s.kind in MACRO_KINDS]


def sniff(path: Path, limits: ReadLimits) -> Package:
    """The package map of an acceptable workbook, or UnreadableFileError saying why not."""
    file = path.name
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise refuse(file, "directory")
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block open() for good
            raise refuse(file, "not_regular")
        size = info.st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        cause = os_cause(exc)
        raise refuse(file, "cannot_open", cause=cause.zh, error=cause.en) from exc
    if size == 0:
        raise refuse(file, "empty")
    if size > limits.max_file_bytes:
        raise refuse(file, "too_large", mb=size >> 20, limit=limits.max_file_bytes >> 20)
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path, file, limits)
    if head.startswith(OLE_MAGIC):
        raise refuse(file, ole_reason(path))
    raise refuse(file, text_reason(head))


def _sniff_zip(path: Path, file: str, limits: ReadLimits) -> Package:
    try:
        with zipfile.ZipFile(path) as zf:
            _check_directory(zf, file, limits)
            _check_prologs(zf, file)
            # A sheet's declared <dimension> is not judged: writers leave it stale (A1:XFD1048576
            # over two rows); the reading child checks the real extent instead.
            return _find_sheets(zf, file, limits)
    except UnreadableFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise refuse(file, "corrupt_zip") from exc
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression, zip password
        raise refuse(file, "zip_method") from exc


def _check_directory(zf: zipfile.ZipFile, file: str, limits: ReadLimits) -> None:
    """Zip-bomb and tampering checks from the central directory only."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise refuse(file, "too_many_entries", n=len(infos), limit=limits.max_entries)
    dupes = [name for name, n in Counter(_norm(i.filename) for i in infos).items() if n > 1]
    if dupes:
        raise refuse(file, "duplicate_entry", name=dupes[0])
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise refuse(file, "bomb_total", mb=total >> 20, limit=limits.max_uncompressed_bytes >> 20)
    for info in infos:
        if info.flag_bits & 0x1:
            raise refuse(file, "zip_method")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
            raise refuse(file, "bomb_ratio", name=info.filename, ratio=ratio)


def _check_prologs(zf: zipfile.ZipFile, file: str) -> None:
    """Refuse any XML part that declares a DOCTYPE or ENTITY (XML bomb, XXE)."""
    for info in zf.infolist():
        if info.is_dir() or info.file_size == 0:
            continue
        with zf.open(info) as fh:
            head = fh.read(PROLOG_BYTES)
        text = _decode_head(head)
        if text is None:  # binary part (image, vbaProject.bin, printer settings)
            continue
        text = _COMMENT.sub("", text)
        root = _ROOT.search(text)
        prolog = text[: root.start()] if root else text
        # An unterminated comment or a prolog longer than the head is refused as well.
        if _DTD.search(prolog) or "<!--" in prolog or (root is None and len(head) == PROLOG_BYTES):
            raise refuse(file, "xml_dtd", name=info.filename)


def _decode_head(head: bytes) -> str | None:
    """The head of a part as text if it is XML (UTF-8 or UTF-16), else None."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        text = head.decode("utf-16-le", "ignore")
    elif head.startswith((b"\xfe\xff", b"\x00<")):
        text = head.decode("utf-16-be", "ignore")
    else:
        text = head.decode("utf-8", "ignore")
    text = text.lstrip("\ufeff \t\r\n")
    return text if text.startswith("<") else None


def _read_xml(zf: zipfile.ZipFile, name: str, file: str) -> Element:
    # kam.io.files checks at import that defusedxml is installed and used by openpyxl.
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    info = zf.getinfo(name)
    if info.file_size > MAX_META_PART:
        raise refuse(file, "xml_bad", name=name)
    try:
        return fromstring(zf.read(info))
    except DefusedXmlException as exc:
        raise refuse(file, "xml_dtd", name=name) from exc
    except ParseError as exc:
        raise refuse(file, "xml_bad", name=name) from exc


def _norm(name: str) -> str:
    """A part name as compared: OPC names ignore case; some writers use backslashes."""
    return name.replace("\\", "/").lower()


def _names(zf: zipfile.ZipFile) -> dict[str, str]:
    return {_norm(n): n for n in zf.NameToInfo}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(zf: zipfile.ZipFile, rels: str, base: str, file: str) -> dict[str, tuple]:
    """Id -> (type suffix, resolved part name) of a .rels part; empty if it is missing."""
    rels = _names(zf).get(_norm(rels), "")
    if not rels:
        return {}
    out: dict[str, tuple] = {}
    for el in _read_xml(zf, rels, file).iter():
        if _local(el.tag) != "Relationship" or el.get("TargetMode") == "External":
            continue
        target = unquote(el.get("Target", "")).replace("\\", "/")
        part = posixpath.normpath(
            target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        )
        out[el.get("Id", "")] = (el.get("Type", "").rsplit("/", 1)[-1], part)
    return out


def _find_workbook(zf: zipfile.ZipFile, file: str) -> str | None:
    """The workbook part: via _rels/.rels, else [Content_Types].xml, else xl/workbook.xml."""
    names = _names(zf)
    for kind, part in _relationships(zf, "_rels/.rels", "", file).values():
        if kind == "officeDocument" and _norm(part) in names:
            return names[_norm(part)]
    if "[content_types].xml" in names:
        for el in _read_xml(zf, names["[content_types].xml"], file).iter():
            content_type = el.get("ContentType", "")
            if _local(el.tag) == "Override" and content_type.endswith(_WORKBOOK_TYPES):
                part = _norm(el.get("PartName", "").lstrip("/"))
                if part in names:
                    return names[part]
    return names.get("xl/workbook.xml")


def _find_sheets(zf: zipfile.ZipFile, file: str, limits: ReadLimits) -> Package:
    workbook = _find_workbook(zf, file)
    if workbook is None:
        raise refuse(file, _not_workbook_reason(zf))
    if workbook.lower().endswith(".bin"):
        raise refuse(file, "xlsb")
    root = _read_xml(zf, workbook, file)
    if _local(root.tag) != "workbook":
        raise refuse(file, _not_workbook_reason(zf))
    folder, base = posixpath.split(workbook.replace("\\", "/"))
    rels = _relationships(zf, posixpath.join(folder, "_rels", base + ".rels"), folder, file)
    names = _names(zf)
    sheets = []
    for el in root.iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
        kind, part = rels.get(rid, ("", ""))
        if _norm(part) not in names:
            raise refuse(file, "missing_sheet_part", sheet=el.get("name", ""))
        sheets.append(SheetPart(el.get("name", ""), names[_norm(part)], kind))
        if len(sheets) > limits.max_sheets:  # each sheet costs a read: refuse before any
            n = sum(_local(e.tag) == "sheet" for e in root.iter())
            raise refuse(file, "too_many_sheets", n=n, limit=limits.max_sheets)
    strings = [
        names[_norm(p)] for k, p in rels.values() if k == "sharedStrings" and _norm(p) in names
    ]
    package = Package(workbook, tuple(sheets), strings[0] if strings else "")
    if not package.data_parts():
        raise refuse(file, "no_sheets")
    return package


def _not_workbook_reason(zf: zipfile.ZipFile) -> str:
    names = _names(zf)
    if "mimetype" in names and b"spreadsheet" in zf.read(names["mimetype"])[:200]:
        return "ods"
    if "index/document.iwa" in names or "index.zip" in names or "index.xml" in names:
        return "numbers"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return "not_workbook"
