"""kam.io.inflate reads a zip entry exactly as zipfile does, and refuses what zipfile refuses."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.io import inflate
from kam.io.inflate import entry_chunks

METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]


def _zip(data: bytes, method: int, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("before.xml", b"<a/>" * 50)  # the entry is not at offset 0
        zf.writestr(name, data)
    return buf.getvalue()


def _read(raw: bytes, chunk: int, name: str = "xl/worksheets/sheet1.xml") -> list[bytes]:
    fh = io.BytesIO(raw)
    info = zipfile.ZipFile(fh).getinfo(name)
    return list(entry_chunks(fh, info, chunk))


@settings(max_examples=60, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=5000),
        st.builds(
            lambda unit, n: unit * n, st.binary(min_size=1, max_size=40), st.integers(0, 3000)
        ),
    ),
    method=st.sampled_from(METHODS),
    chunk=st.integers(1, 70_000),
)
def test_chunks_join_to_what_zipfile_reads(data: bytes, method: int, chunk: int) -> None:
    raw = _zip(data, method)
    pieces = _read(raw, chunk)
    assert b"".join(pieces) == zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml")
    assert all(0 < len(p) <= chunk for p in pieces)  # bounded, however much it inflates


@pytest.mark.parametrize("method", METHODS)
def test_a_damaged_entry_is_refused_like_zipfile_refuses_it(method: int) -> None:
    data = b"<row><c r='A1'><v>1</v></c></row>" * 2000
    raw = bytearray(_zip(data, method))
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0x55
    errors = (zipfile.BadZipFile, *inflate.ERRORS)
    with pytest.raises(errors):
        zipfile.ZipFile(io.BytesIO(bytes(raw))).read(info.filename)
    with pytest.raises(errors):
        _read(bytes(raw), 4096)


def test_a_truncated_or_misplaced_entry_is_refused() -> None:
    raw = _zip(b"<x/>" * 1000, zipfile.ZIP_DEFLATED)
    fh = io.BytesIO(raw)
    info = zipfile.ZipFile(fh).getinfo("xl/worksheets/sheet1.xml")
    info.header_offset += 1  # the central directory points beside the local header
    with pytest.raises(zipfile.BadZipFile):
        list(entry_chunks(fh, info, 4096))
    info.header_offset -= 1
    with pytest.raises((EOFError, zipfile.BadZipFile)):
        list(entry_chunks(io.BytesIO(raw[: info.header_offset + 60]), info, 4096))


def test_other_methods_are_not_inflated_as_deflate() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("s.xml", b"<a/>")
    info = zipfile.ZipFile(buf).getinfo("s.xml")
    with pytest.raises(NotImplementedError):
        list(entry_chunks(buf, info, 4096))


def test_isal_is_used_where_installed() -> None:
    import isal.isal_zlib

    assert inflate._zlib is isal.isal_zlib
