"""Excel's sheet size limits, checked before anything is written.

Excel opens no sheet past 1,048,576 rows or 16,384 columns (LibreOffice silently drops the
rest). The limits are a setting so that tests can use small ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kam.errors import UsageError
from kam.register.columns import REG_BY_SOURCE, REG_ROSTER
from kam.register.state import EVENT_SOURCES

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384


@dataclass(frozen=True)
class SheetLimits:
    """The most rows (header included) and columns one sheet may have."""

    rows: int = EXCEL_ROWS
    columns: int = EXCEL_COLUMNS


_EVENT_SHEETS = frozenset(REG_BY_SOURCE[sid].sheet for sid in EVENT_SOURCES)


def check_sheets(sheets: dict[str, pd.DataFrame], limits: SheetLimits) -> None:
    """Raise UsageError (exit 2) naming every sheet that would not fit, and what to change."""
    over = []
    for name, frame in sheets.items():
        rows, cols = len(frame) + 1, frame.shape[1]
        if rows > limits.rows or cols > limits.columns:
            over.append((name, rows, cols))
    if not over:
        return
    said = "；".join(f"“{n}”需要 {r:,} 行、{c} 列" for n, r, c in over)
    advice = []
    if any(n in _EVENT_SHEETS for n, _, _ in over):
        advice.append(
            "在规则文件 [archive] 中减小 keep_quarters 或把 keep_current_year 设为 false，"
            "并缩短 [risk] 的时间窗口，使名录保留的事件更少（更早的移入按年归档文件）"
        )
    if any(n not in _EVENT_SHEETS for n, _, _ in over):
        advice.append(
            f"“{REG_ROSTER.sheet}”等现状表只保留各单位的最新报送，仍超出时请按单位分拆名录"
            "（不同的 --register 文件）"
        )
    raise UsageError(
        f"合并后的名录超出 Excel 工作表上限（{limits.rows:,} 行、{limits.columns:,} 列）："
        f"{said}。名录未写入，原名录保持不变。请{'；或'.join(advice)}后重新合并"
    )
