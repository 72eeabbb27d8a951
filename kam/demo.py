"""`kam demo`: a realistic quarter of branch submissions, validated and annotated end to end."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kam.annotate import annotate_file
from kam.messages import Severity
from kam.sample import QuarterSettings, write_quarter
from kam.validate import ValidateSettings


@dataclass
class DemoSummary:
    """What the demo did, for the CLI to render."""

    title: str
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_demo(folder: Path, lang: str = "zh") -> DemoSummary:
    """Write the sample quarter into folder/inbox, validate and annotate every file."""
    quarter = QuarterSettings()
    inbox, annotated = folder / "inbox", folder / "annotated"
    for sub in (inbox, annotated):
        if sub.exists():
            shutil.rmtree(sub)
        sub.mkdir(parents=True)
    settings = ValidateSettings(today=quarter.today)
    summary = DemoSummary(
        title=f"示例季度 {quarter.quarter}：{folder.resolve()}",
        headers=["文件", "单位", "错误", "警告", "提示", "档案完整率", "标注副本"],
    )
    for path, branch in write_quarter(inbox, quarter):
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
    summary.notes.append(f"示例报送在 {inbox}，标注副本在 {annotated}。")
    return summary
