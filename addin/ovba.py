"""The parts of MS-OVBA the build needs: compression, the dir stream's records, and the
swap of one module's source inside an existing VBA project.

A module stream is a p-code cache followed by the compressed source, which starts at the
module's MODULEOFFSET (a record of the dir stream). A new source is written with offset 0,
no cache, which is how xlwings' own release build stores its `xlwings` module in the
template; the template's _VBA_PROJECT stream already carries no cache and the version
0xFFFF, so Excel compiles every module from source when it opens the add-in.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from oletools.olevba import decompress_stream

CHUNK = 4096

MODULE_NAME = 0x0019
MODULE_STREAM_NAME = 0x001A
MODULE_OFFSET = 0x0031
MODULE_TERMINATOR = 0x002B
PROJECT_MODULES = 0x000F
PROJECT_CODEPAGE = 0x0003
PROJECT_VERSION = 0x0009  # its Size field says 4, but 6 bytes follow (MS-OVBA 2.3.4.2.1.11)


CANDIDATES = 32  # earlier positions tried per 3-byte prefix: enough for VBA text


def _chunk_tokens(chunk: bytes) -> bytes:
    """One chunk as MS-OVBA 2.4.1.3 token sequences: greedy LZ77, copy tokens whose
    offset/length split depends on the position in the chunk (CopyTokenHelp)."""
    out = bytearray()
    seen: dict[bytes, list[int]] = {}  # 3-byte prefix -> the positions it starts at
    pos = indexed = 0
    n = len(chunk)
    while pos < n:
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= n:
                break
            for i in range(indexed, min(pos, n - 2)):
                seen.setdefault(chunk[i : i + 3], []).append(i)
            indexed = max(indexed, pos)
            bits = max((pos - 1).bit_length(), 4) if pos else 4
            longest = (0xFFFF >> bits) + 3
            best_len = best_at = 0
            for start in reversed(seen.get(chunk[pos : pos + 3], [])[-CANDIDATES:]):
                length = 0
                limit = min(longest, n - pos)
                while length < limit and chunk[start + length] == chunk[pos + length]:
                    length += 1  # may run past pos: an overlapping copy, as the spec allows
                if length > best_len:
                    best_len, best_at = length, start
            if best_len >= 3:
                token = ((pos - best_at - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                out[flag_at] |= 1 << bit
                pos += best_len
            else:
                out.append(chunk[pos])
                pos += 1
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 compression (checked against oletools' decompressor by the tests)."""
    out = bytearray(b"\x01")  # signature byte of a CompressedContainer
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        body = _chunk_tokens(chunk)
        if len(body) <= CHUNK:
            out += (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + body
        elif len(chunk) == CHUNK:  # incompressible: stored raw
            out += (0x3000 | (CHUNK + 2 - 3)).to_bytes(2, "little") + chunk
        else:  # an incompressible last chunk: raw chunks hold exactly 4096 bytes
            padded = chunk + b" " * (CHUNK - len(chunk))  # VBA reads spaces as a blank line
            out += (0x3000 | (CHUNK + 2 - 3)).to_bytes(2, "little") + padded
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 decompression (oletools')."""
    return bytes(decompress_stream(bytearray(data)))


@dataclass
class Record:
    """One record of the dir stream: its id and the bytes after the Size field."""

    id: int
    data: bytes

    def to_bytes(self) -> bytes:
        size = 4 if self.id == PROJECT_VERSION else len(self.data)
        return struct.pack("<HI", self.id, size) + self.data


def records(dir_stream: bytes) -> list[Record]:
    """The decompressed dir stream as a flat list of records, in order."""
    out: list[Record] = []
    pos = 0
    while pos < len(dir_stream):
        rid, size = struct.unpack_from("<HI", dir_stream, pos)
        pos += 6
        if rid == PROJECT_VERSION:
            size = 6
        out.append(Record(rid, dir_stream[pos : pos + size]))
        pos += size
    return out


@dataclass(frozen=True)
class ModuleEntry:
    """What the dir stream says of one module."""

    name: str
    stream: str
    offset: int


def modules(recs: list[Record]) -> list[ModuleEntry]:
    """The modules the dir stream lists, in order (names in the project's code page)."""
    codepage = next(struct.unpack("<H", r.data)[0] for r in recs if r.id == PROJECT_CODEPAGE)
    encoding = f"cp{codepage}"
    found: list[ModuleEntry] = []
    name = stream = ""
    offset = -1
    for r in recs:
        if r.id == MODULE_NAME:
            name = r.data.decode(encoding)
        elif r.id == MODULE_STREAM_NAME:
            stream = r.data.decode(encoding)
        elif r.id == MODULE_OFFSET:
            offset = struct.unpack("<I", r.data)[0]
        elif r.id == MODULE_TERMINATOR:
            found.append(ModuleEntry(name, stream, offset))
    return found


def declared_module_count(recs: list[Record]) -> int:
    return next(struct.unpack("<H", r.data)[0] for r in recs if r.id == PROJECT_MODULES)


def with_offset_zero(recs: list[Record], module: str) -> bytes:
    """The dir stream (uncompressed) with MODULEOFFSET 0 for module."""
    current = ""
    out = bytearray()
    for r in recs:
        if r.id == MODULE_NAME:
            current = r.data.decode("latin-1")
        if r.id == MODULE_OFFSET and current == module:
            r = Record(r.id, struct.pack("<I", 0))
        out += r.to_bytes()
    return bytes(out)


def module_source(stream: bytes, offset: int) -> bytes:
    """The source text of a module stream (the bytes after its p-code cache)."""
    return decompress(stream[offset:])
