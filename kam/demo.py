"""`kam demo`: a realistic quarter of branch submissions, validated and annotated end to end."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kam.annotate import annotate_file
from kam.insight.build import read_insight
from kam.insight.kpi import Scorecard
from kam.insight.notice import write_notices
from kam.messages import Severity
from kam.prefill import PrefillSettings, next_quarter, prefill
from kam.register.columns import REGISTER_FILENAME
from kam.register.merge import MergeResult, MergeSettings, merge
from kam.rules import load_rules
from kam.sample import QuarterSettings, write_quarter
from kam.validate import ValidateSettings


@dataclass
class DemoSummary:
    """What the demo did, for the CLI to render."""

    title: str
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merge: MergeResult | None = None
    scorecard: Scorecard | None = None  # 考核 of the merged register
    notices: list[Path] = field(default_factory=list)  # 预警通报 written


def run_demo(folder: Path, lang: str = "zh") -> DemoSummary:
    """Write the sample quarter into folder/inbox, validate, annotate, then merge it all."""
    quarter = QuarterSettings()
    inbox, annotated, prefilled = folder / "inbox", folder / "annotated", folder / "prefill"
    for sub in (inbox, annotated, folder / "notices", prefilled):  # a rerun starts afresh
        if sub.exists():
            shutil.rmtree(sub)
        sub.mkdir(parents=True)
    settings = ValidateSettings(today=quarter.today)
    summary = DemoSummary(
        title=f"示例季度 {quarter.quarter}：{folder.resolve()}",
        headers=["文件", "单位", "错误", "警告", "提示", "档案完整率", "标注副本"],
    )
    written = write_quarter(inbox, quarter)
    for path, branch in written:
        result = annotate_file(path, annotated / path.name, settings)
        rep = result.report
        summary.rows.append(
            [
                path.name,
                branch.branch,
                rep.count(Severity.ERROR),
                rep.count(Severity.WARNING),
                rep.count(Severity.INFO),
                "" if rep.completeness is None else f"{rep.completeness:.1%}",
                "无法读取，已拒收" if rep.unreadable else f"annotated/{path.name}",
            ]
        )
    register = folder / REGISTER_FILENAME
    merged = merge(
        MergeSettings(
            register=register,
            inbox=inbox,
            today=quarter.today,
            branches=tuple(b.branch for _, b in written),
        )
    )
    t = merged.totals
    summary.merge = merged
    summary.notes.append(f"示例报送在 {inbox}，标注副本在 {annotated}。")
    summary.notes.append(
        f"已合并进集团大客户名录 {register}：{t['rows_in']} 行中合并 {t['merged']}、"
        f"拒收 {t['rejected']}、重复 {t['duplicate']}；归属冲突 {len(merged.conflicts)} 个。"
    )
    insight = read_insight(register, load_rules())
    summary.scorecard = insight.card
    summary.notices = write_notices(insight, folder / "notices", quarter.today)
    after = next_quarter(quarter.quarter)
    filled = prefill(PrefillSettings(register, after, prefilled))
    summary.notes.append(
        f"已按名录为 {len(filled)} 个单位预填 {after} 的报送（名录、信息登记卡、合同台账、"
        f"未闭环的维护记录），在 {prefilled}。"
    )
    return summary
