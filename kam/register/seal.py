"""The register's seal: a hash of its worksheets as kam wrote them, kept in a custom property.

The next merge looks for HQ's hand edits row by row (kam.register.edits), hashing every
stored row: after years of quarters that was a third of a merge. A workbook that Excel,
LibreOffice or any other program saved again has its worksheets rewritten, so its seal no
longer matches; when it still matches, the worksheets are byte for byte what the last merge
wrote and cannot hold a hand edit, and the row-by-row scan is skipped.

The hash is taken over each worksheet's name, CRC-32 and size as the zip directory records
them (the CRC is of the uncompressed XML), so checking a seal reads no sheet at all. It
tells kam's own output from a file some program saved again; it is not a signature.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

PROPERTY = "kam_sheets"
PLACEHOLDER = b"0" * 16  # written by xlsxwriter, replaced when the rows are spliced in
CUSTOM_PART = "docProps/custom.xml"
_VALUE = re.compile(rb'name="' + PROPERTY.encode() + rb'"><vt:lpwstr>([0-9a-f]{16})</vt:lpwstr>')


def new_seal() -> hashlib.blake2b:
    """The hash the worksheets are fed into (with add()), in the order of the package."""
    return hashlib.blake2b(digest_size=8)


def add(seal: hashlib.blake2b, info: zipfile.ZipInfo) -> None:
    """Feed one written part into the seal, if it is a worksheet."""
    if is_worksheet(info.filename):
        seal.update(f"{info.filename}:{info.CRC:08x}:{info.file_size};".encode())


def is_worksheet(part: str) -> bool:
    return part.startswith("xl/worksheets/sheet") and part.endswith(".xml")


def stamped(custom_xml: bytes, seal: hashlib.blake2b) -> bytes:
    """docProps/custom.xml with the placeholder replaced by the seal."""
    return custom_xml.replace(PLACEHOLDER, seal.hexdigest().encode(), 1)


def intact(path: Path) -> bool:
    """True when the workbook's worksheets are exactly those its seal was made of."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if CUSTOM_PART not in names:
                return False
            m = _VALUE.search(z.read(CUSTOM_PART))
            if m is None or m.group(1) == PLACEHOLDER:
                return False
            seal = new_seal()
            for info in z.infolist():
                add(seal, info)
            return seal.hexdigest().encode() == m.group(1)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False  # unreadable here: the full scan (and its reader) will say why
