"""The register's seal: a hash of its worksheets as kam wrote them, kept in a custom property.

The next merge looks for HQ's hand edits row by row (kam.register.edits), hashing every
stored row: after years of quarters that was a third of a merge. A workbook that Excel,
LibreOffice or any other program saved again has its worksheets rewritten, so its seal no
longer matches; when it still matches, the worksheets are byte for byte what the last merge
wrote and cannot hold a hand edit, and the row-by-row scan is skipped.

The hash is taken over each worksheet's name, CRC-32 and size as the zip directory records
them (the CRC is of the uncompressed XML), so checking a seal reads no sheet at all. It
tells kam's own output from a file some program saved again; it is not a signature.

A second property names the digest of the cache written with the register
(kam.register.store), so the cache beside a sealed register is known to be its own.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

PROPERTY = "kam_sheets"
PLACEHOLDER = b"0" * 16  # written by xlsxwriter, replaced when the rows are spliced in
CACHE_PROPERTY = "kam_cache"
CACHE_PLACEHOLDER = b"-" * 32  # stays when no cache was written
CUSTOM_PART = "docProps/custom.xml"
_VALUE = re.compile(rb'name="' + PROPERTY.encode() + rb'"><vt:lpwstr>([0-9a-f]{16})</vt:lpwstr>')
_CACHE = re.compile(
    rb'name="' + CACHE_PROPERTY.encode() + rb'"><vt:lpwstr>([0-9a-f]{32})</vt:lpwstr>'
)


def new_seal() -> hashlib.blake2b:
    """The hash the worksheets are fed into (with add()), in the order of the package."""
    return hashlib.blake2b(digest_size=8)


def add(seal: hashlib.blake2b, info: zipfile.ZipInfo) -> None:
    """Feed one written part into the seal, if it is a worksheet."""
    if is_worksheet(info.filename):
        seal.update(f"{info.filename}:{info.CRC:08x}:{info.file_size};".encode())


def is_worksheet(part: str) -> bool:
    return part.startswith("xl/worksheets/sheet") and part.endswith(".xml")


def stamped(custom_xml: bytes, seal: hashlib.blake2b, cache: str | None = None) -> bytes:
    """docProps/custom.xml with the placeholders replaced by the seal and the cache digest."""
    xml = custom_xml.replace(PLACEHOLDER, seal.hexdigest().encode(), 1)
    return xml.replace(CACHE_PLACEHOLDER, cache.encode(), 1) if cache else xml


def intact(path: Path) -> bool:
    """True when the workbook's worksheets are exactly those its seal was made of."""
    return sealed_cache(path) is not None


def sealed_cache(path: Path) -> str | None:
    """None when the workbook is not intact; else the digest of its cache ("" for none)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if CUSTOM_PART not in names:
                return None
            custom = z.read(CUSTOM_PART)
            m = _VALUE.search(custom)
            if m is None or m.group(1) == PLACEHOLDER:
                return None
            seal = new_seal()
            for info in z.infolist():
                add(seal, info)
            if seal.hexdigest().encode() != m.group(1):
                return None
            cache = _CACHE.search(custom)
            return cache.group(1).decode() if cache else ""
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None  # unreadable here: the full scan (and its reader) will say why
