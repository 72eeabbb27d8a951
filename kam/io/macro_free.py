"""A copy of a workbook without its Excel 4.0 macro sheets, for the reading children.

python-calamine refuses a whole workbook that holds a macro sheet ("unrecognized sheet
type"), yet its worksheets are a branch's data. The copy drops the macro sheets' parts,
their <sheet> entries in the workbook part and their relationships; everything else is
copied byte for byte. It lives in a private temporary folder removed when the block ends.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kam.io.sniff import Package


@contextmanager
def without_macro_sheets(path: Path, package: Package) -> Iterator[Path]:
    """`path` itself when it has no macro sheet, else a copy without them."""
    macros = package.macro_sheets
    if not macros:
        yield path
        return
    parts = {m.part for m in macros}
    names = [re.escape(m.name.replace("&", "&amp;").replace('"', "&quot;")) for m in macros]
    sheet_el = re.compile(
        rb"<(?:\w+:)?sheet\s[^>]*name=\"(?:" + "|".join(names).encode() + rb")\"[^>]*/>"
    )
    rel_el = re.compile(
        rb"<Relationship\s[^>]*xlIntlMacrosheet\"[^>]*/>|<Relationship\s[^>]*xlMacrosheet\"[^>]*/>"
    )
    folder = Path(tempfile.mkdtemp(prefix="kam-read-"))
    try:
        copy = folder / path.name
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                if info.filename in parts:
                    continue
                if info.filename == package.workbook:
                    zout.writestr(info, sheet_el.sub(b"", zin.read(info)))
                elif info.filename.endswith(".rels"):
                    zout.writestr(info, rel_el.sub(b"", zin.read(info)))
                else:  # streamed: a large worksheet is never held in memory here
                    with zin.open(info) as src, zout.open(info, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)
