"""`kam demo`, the product's main job end to end, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import python_calamine

from kam.register.columns import REGISTER_FILENAME


def test_demo_validates_annotates_and_merges_a_quarter(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kam", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    demo = tmp_path / "demo"
    inbox = sorted(p.name for p in (demo / "inbox").iterdir())
    annotated = sorted(p.name for p in (demo / "annotated").iterdir())
    assert len(inbox) == 9 and len(annotated) == 8  # the fake CSV gets no annotated copy
    book = python_calamine.CalamineWorkbook.from_path(str(demo / REGISTER_FILENAME))
    assert {"集团大客户名录", "拒收记录", "报送情况", "归属冲突", "汇总"} <= set(book.sheet_names)
    assert "集团大客户名录" in done.stdout and "归属冲突" in done.stdout
    prefilled = sorted(p.name for p in (demo / "prefill").iterdir())
    assert len(prefilled) == 8 and all(p.endswith("_2026Q4_报送.xlsx") for p in prefilled)
    assert "预填 2026Q4" in done.stdout
