"""Rewrite a compound file (MS-CFB v3) with some streams replaced, whatever their new size.

olefile reads compound files well but can only overwrite a stream with one of the same
size; replacing a VBA module's source changes sizes. So the file is read with olefile and
written again whole: the same directory entries (names, tree links, colours, CLSIDs,
state bits, times) in the same order, with new sector chains. Streams under 4096 bytes
go to the mini stream, as MS-CFB requires. No stream is added, removed or renamed, so the
directory tree stays the one the original writer (Excel's) built.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from pathlib import Path

import olefile

SECTOR = 512
MINI = 64
CUTOFF = 4096
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
FREESECT = 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF
HEADER_DIFAT = 109
STREAM, STORAGE, ROOT = 2, 1, 5


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\0" * (-len(data) % size)


def _chain(table: list[int], start: int, count: int) -> None:
    """Link count consecutive sectors from start, the last one ending the chain."""
    for i in range(start, start + count - 1):
        table[i] = i + 1
    if count:
        table[start + count - 1] = ENDOFCHAIN


def _entry(d: olefile.olefile.OleDirectoryEntry, start: int, size: int) -> bytes:
    name = d.name.encode("utf-16-le")
    clsid = uuid.UUID(d.clsid).bytes_le if d.clsid else b"\0" * 16
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name) + 2,
        d.entry_type,
        d.color,
        d.sid_left,
        d.sid_right,
        d.sid_child,
        clsid,
        d.dwUserFlags,
        d.createTime,
        d.modifyTime,
        start,
        size,
    )


def _stream_paths(entry: olefile.olefile.OleDirectoryEntry, prefix: str = "") -> dict[int, str]:
    """{directory index: "storage/stream"} of every stream under entry."""
    paths: dict[int, str] = {}
    for kid in entry.kids:
        path = prefix + kid.name
        if kid.entry_type == STREAM:
            paths[kid.sid] = path
        else:
            paths.update(_stream_paths(kid, path + "/"))
    return paths


def rewrite(source: Path, replace: Mapping[str, bytes]) -> bytes:
    """The compound file at source with the streams named in replace ("VBA/dir") replaced."""
    with olefile.OleFileIO(str(source)) as ole:
        entries = list(ole.direntries)
        paths = _stream_paths(ole.root)
        unknown = set(replace) - set(paths.values())
        if unknown:
            raise KeyError(f"no such stream: {sorted(unknown)}")
        data = {
            sid: replace[path] if path in replace else ole.openstream(path).read()
            for sid, path in paths.items()
        }
        minor = ole.minor_version

    mini_sids = [s for s, b in data.items() if len(b) < CUTOFF]
    big_sids = [s for s, b in data.items() if len(b) >= CUTOFF]
    starts: dict[int, int] = {}
    mini_stream = bytearray()
    minifat: list[int] = []
    for sid in sorted(mini_sids):
        blob = data[sid]
        if not blob:
            starts[sid] = ENDOFCHAIN
            continue
        first = len(mini_stream) // MINI
        count = -(-len(blob) // MINI)
        starts[sid] = first
        minifat.extend([FREESECT] * count)
        _chain(minifat, first, count)
        mini_stream += _pad(blob, MINI)

    # Sector layout: mini stream container, big streams, mini FAT, directory, FAT.
    blocks: list[bytes] = []
    sector = 0

    def place(blob: bytes) -> int:
        nonlocal sector
        first = sector
        blocks.append(_pad(blob, SECTOR))
        sector += -(-len(blob) // SECTOR)
        return first

    root_start = place(bytes(mini_stream)) if mini_stream else ENDOFCHAIN
    runs: list[tuple[int, int]] = []  # (first sector, count) of every chain
    if mini_stream:
        runs.append((root_start, -(-len(mini_stream) // SECTOR)))
    for sid in sorted(big_sids):
        starts[sid] = place(data[sid])
        runs.append((starts[sid], -(-len(data[sid]) // SECTOR)))
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    minifat_start = place(minifat_bytes) if minifat else ENDOFCHAIN
    if minifat:
        runs.append((minifat_start, -(-len(minifat_bytes) // SECTOR)))

    directory = bytearray()
    for sid, d in enumerate(entries):
        if d is None:  # an unused slot keeps its place: sids are tree links
            directory += struct.pack(
                "<64sHBBIII16sIQQIQ",
                b"",
                0,
                0,
                0,
                NOSTREAM,
                NOSTREAM,
                NOSTREAM,
                b"\0" * 16,
                0,
                0,
                0,
                0,
                0,
            )
        elif d.entry_type == ROOT:
            directory += _entry(d, root_start, len(mini_stream))
        elif d.entry_type == STREAM:
            directory += _entry(d, starts[sid], len(data[sid]))
        else:
            directory += _entry(d, 0, 0)
    while len(directory) % SECTOR:  # fill the last directory sector with unused entries
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            b"",
            0,
            0,
            0,
            NOSTREAM,
            NOSTREAM,
            NOSTREAM,
            b"\0" * 16,
            0,
            0,
            0,
            0,
            0,
        )
    dir_start = place(bytes(directory))
    runs.append((dir_start, len(directory) // SECTOR))

    per_fat = SECTOR // 4
    n_fat = 1
    while sector + n_fat > n_fat * per_fat:
        n_fat += 1
    if n_fat > HEADER_DIFAT:
        raise ValueError("compound file too large for a header-only DIFAT")
    fat = [FREESECT] * (n_fat * per_fat)
    for first, count in runs:
        _chain(fat, first, count)
    fat_start = sector
    for i in range(n_fat):
        fat[fat_start + i] = FATSECT
    difat = list(range(fat_start, fat_start + n_fat)) + [FREESECT] * (HEADER_DIFAT - n_fat)

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        olefile.MAGIC,
        b"\0" * 16,
        minor,
        3,  # major version 3: 512-byte sectors
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,  # number of directory sectors: always 0 in version 3
        n_fat,
        dir_start,
        0,
        CUTOFF,
        minifat_start,
        -(-len(minifat_bytes) // SECTOR) if minifat else 0,
        ENDOFCHAIN,  # no DIFAT sectors
        0,
    ) + struct.pack(f"<{HEADER_DIFAT}I", *difat)
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return _pad(header, SECTOR) + b"".join(blocks) + fat_bytes
