"""The text of a few formula cells (`=SUM(1,1)`), looked up only for the cells a message quotes.

The readers keep where formula cells are, not their text: almost no data cell is a formula,
and the template's own formula columns would make keeping every text costly. When a finding
names a formula cell, one streamed pass over that sheet's XML finds the texts of just those
cells.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from html import unescape
from pathlib import Path

from kam.errors import KamError
from kam.io import inflate
from kam.io.files import DEFAULT_LIMITS
from kam.io.sheet_scan import CHUNK, _segments
from kam.io.sniff import sniff

# <c r="C2" ...><f ...>SUM(1,1)</f>: a cell's first child formula with its text. Shared-formula
# followers (<f t="shared" si="0"/>) have no text of their own and are not matched.
_CELL_FORMULA = re.compile(
    rb"<(?:\w+:)?c\b[^>]*?\br\s*=\s*[\"']([A-Z]{1,3}\d+)[\"'][^>]*>\s*"
    rb"<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f\s*>"
)


def formula_texts(path: Path, cells: dict[str, Iterable[str]]) -> dict[tuple[str, str], str]:
    """(sheet, A1 cell) -> "=formula" for the wanted cells of each sheet that hold one.

    Best effort: a file or cell it cannot read gives no entry (the message then quotes the
    cell's value), never an error.
    """
    found: dict[tuple[str, str], str] = {}
    wanted = {sheet: set(refs) for sheet, refs in cells.items() if refs}
    if not wanted:
        return found
    try:
        parts = {p.name: p.part for p in sniff(Path(path), DEFAULT_LIMITS).sheets}
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            for sheet, refs in wanted.items():
                if sheet not in parts:
                    continue
                chunks = inflate.entry_chunks(fh, zf.getinfo(parts[sheet]), CHUNK)
                for segment in _segments(chunks):
                    for m in _CELL_FORMULA.finditer(segment):
                        ref = m.group(1).decode("ascii")
                        if ref in refs:
                            text = unescape(m.group(2).decode("utf-8", "replace")).strip()
                            found[sheet, ref] = "=" + text.removeprefix("=")
    except (KamError, zipfile.BadZipFile, KeyError, EOFError, OSError, *inflate.ERRORS):
        pass  # a quote is a courtesy: the finding stands without it
    return found
