"""A merge's result in a few Chinese sentences: the 合并报送 button's message box."""

from __future__ import annotations

from kam.register.columns import CONFLICTS, REJECTED, SUBMISSIONS
from kam.register.intake import STATUS_TEXT
from kam.register.merge import MergeResult

SHOWN_LOST = 5  # a message box is no report: the first few lost edits, then a count


def merge_message(result: MergeResult) -> str:
    """What happened, what needs a look, and where the details are."""
    t = result.totals
    counts = {w: sum(1 for f in result.files if f.status == s) for s, w in STATUS_TEXT.items()}
    files = "、".join(f"{w} {n} 个" for w, n in counts.items() if n)
    lines = [
        f"名录：{result.register}",
        f"文件 {len(result.files)} 个（{files or '无'}）；"
        f"行 {t['rows_in']}：合并 {t['merged']}、拒收 {t['rejected']}、重复 {t['duplicate']}。",
    ]
    rejected = [f for f in result.files if f.status == "rejected"]
    for f in rejected[:SHOWN_LOST]:
        lines.append(f"整份拒收 {f.file}：{f.reason}")
    if result.conflicts:
        lines.append(f"归属冲突 {len(result.conflicts)} 个，详见“{CONFLICTS.sheet}”。")
    if t["rejected"] or rejected:
        lines.append(f"拒收明细见“{REJECTED.sheet}”和“{SUBMISSIONS.sheet}”。")
    if result.missing_branches:
        lines.append(f"未报送：{'、'.join(result.missing_branches)}。")
    if result.unreadable_branches:
        lines.append(f"报送文件无法读取：{'、'.join(result.unreadable_branches)}。")
    if result.skipped:
        lines.append(f"已跳过 {len(result.skipped)} 个临时或隐藏文件。")
    if result.notices_due:
        lines.append(f"破产征兆客户 {result.notices_due} 个：须发预警通报，运行 kam notice 生成。")
    if result.cut_cells:
        lines.append(f"{len(result.cut_cells)} 处文本超过 Excel 单元格上限被截断。")
    lost = result.edits.lost
    if lost:
        lines.append(f"有 {len(lost)} 处手工修改未能保留，清单：{result.edits.lost_file}")
        for e in lost[:SHOWN_LOST]:
            where = f"{e.sheet}{f' 第 {e.row} 行' if e.row else ''} {e.key or ''}".strip()
            lines.append(f"  · {where} {'、'.join(e.columns)} {e.hand_value}：{e.reason}")
        if len(lost) > SHOWN_LOST:
            lines.append(f"  · 另有 {len(lost) - SHOWN_LOST} 处，见上述清单")
    if not result.written:
        lines.append("所有文件均已合并过，名录未改动。")
    return "\n".join(lines)
