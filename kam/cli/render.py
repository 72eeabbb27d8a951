"""Everything the CLI shows: rich tables for people, one JSON document for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kam.findings import Report
from kam.messages import Severity

if TYPE_CHECKING:
    import datetime as dt

    from kam.register.edits import EditReport
    from kam.register.merge import MergeResult, Step
    from kam.risk import RiskResult
    from kam.tier_report import TierReport

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
LABELS = {
    "zh": {
        "sheet": "工作表",
        "cell": "单元格",
        "rule": "规则",
        "severity": "级别",
        "message": "说明",
        "file_level": "（文件）",
        Severity.ERROR: "错误",
        Severity.WARNING: "警告",
        Severity.INFO: "提示",
        "no_findings": "未发现问题。",
        "summary": "错误 {errors} 条，警告 {warnings} 条，提示 {infos} 条",
        "completeness": "档案完整率 {value:.1%}",
    },
    "en": {
        "sheet": "Sheet",
        "cell": "Cell",
        "rule": "Rule",
        "severity": "Severity",
        "message": "Message",
        "file_level": "(file)",
        Severity.ERROR: "error",
        Severity.WARNING: "warning",
        Severity.INFO: "info",
        "no_findings": "No findings.",
        "summary": "{errors} errors, {warnings} warnings, {infos} infos",
        "completeness": "Info-card completeness {value:.1%}",
    },
}


def label(key: object, lang: str) -> str:
    return LABELS["en" if lang == "en" else "zh"][key]  # type: ignore[index]


def print_json(document: Any) -> None:
    """The one JSON document on stdout, UTF-8, nothing else."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def report(rep: Report, lang: str = "zh") -> None:
    """A validation report as tables grouped by sheet, then the summary line."""
    out.rule(f"[bold]{rep.file}")
    if not rep.findings:
        out.print(label("no_findings", lang))
    groups: dict[str, list] = {}
    for f in rep.sorted():
        groups.setdefault(f.sheet or label("file_level", lang), []).append(f)
    for sheet, findings in groups.items():
        table = Table(title=sheet, title_justify="left", show_lines=False)
        for key in ("cell", "severity", "rule", "message"):
            table.add_column(label(key, lang), overflow="fold")
        for f in findings:
            style = SEVERITY_STYLE[f.level]
            table.add_row(
                f.cell or "",
                f"[{style}]{label(f.level, lang)}[/]",
                f.rule,
                f.message(lang),
            )
        out.print(table)
    s = rep.summary()
    line = label("summary", lang).format(**s)
    if s["completeness"] is not None:
        line += "；" + label("completeness", lang).format(value=s["completeness"])
    out.print(line)


def simple_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain table (summaries of demo, tier and merge runs)."""
    table = Table(title=title, title_justify="left")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)


def prefill_table(done: Sequence[Any]) -> None:
    """The pre-filled workbooks written (kam.prefill.BranchPrefill), one line per branch."""
    from kam.forms import CARDS, CONTRACTS, MAINTENANCE, ROSTER

    forms = (ROSTER, CARDS, CONTRACTS, MAINTENANCE)
    rows = [[d.branch, *(d.counts[f.id] for f in forms), d.path.name] for d in done]
    simple_table("已写出预填的下季度报送", ["单位", *(f.sheet for f in forms), "文件"], rows)
    for d in done:
        if d.given_away:
            out.print(
                f"{d.branch}：{len(d.given_away)} 个客户归属已判给其他单位，未预填（见填报说明）"
            )
    if done:
        out.print(f"文件在 {done[0].path.parent}")


def failure(message: str) -> None:
    """A message for a run that could not be done (exit code 2)."""
    err.print(f"[bold red]无法执行[/]：{message}")


CHECK_TEXT = {"ok": "一致", "tier_unsupported": "需认定依据", "tier_upgrade": "建议升级"}


def tier_table(result: TierReport, lang: str = "zh") -> None:
    """Computed tiers with their reasons, one row per roster customer."""
    rows = [
        [
            row,
            c["key"],
            c["name"],
            c["recorded"],
            c["computed"],
            c["check"] if lang == "en" else CHECK_TEXT.get(c["check"], c["check"]),
            c["reason"],
        ]
        for row, c in result.customers.iterrows()
    ]
    simple_table(
        f"评价日期 {result.as_of.isoformat()}",
        ["行", "统一社会信用代码", "客户名称", "登记等级", "计算等级", "核对", "等级依据"],
        rows,
    )


LEVEL_STYLE = {"高": "bold white on red", "中": "black on dark_orange", "低": "black on yellow"}


def risk_table(result: RiskResult, as_of: dt.date) -> None:
    """Customers under a bankruptcy warning first, then every customer with a risk."""
    if result.bankrupt:
        out.print(f"[bold white on red] 紧急预警：破产征兆 [/] {'、'.join(result.bankrupt)}")
    risky = result.customers[result.customers["level"] != "无"]
    order = risky["level"].map({"高": 0, "中": 1, "低": 2}).sort_values(kind="stable").index
    rows = [
        [
            risky.at[i, "uscc"],
            risky.at[i, "name"],
            f"[{LEVEL_STYLE[risky.at[i, 'level']]}]{risky.at[i, 'level']}[/]",
            "\n".join(f"{r.rule}（{r.level}）{r.detail}" for r in risky.at[i, "reasons"]),
        ]
        for i in order
    ]
    counts = f"{len(risky)} / {len(result.customers)}"
    simple_table(
        f"风险评估（评价日期 {as_of.isoformat()}）：{counts} 个客户有风险",
        ["统一社会信用代码", "客户名称", "风险等级", "原因"],
        rows,
    )


@contextmanager
def merge_progress() -> Iterator[Callable[[Step], None]]:
    """A progress bar on stderr that moves one step per branch file read."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("合并中…", total=None)

        def update(step: Step) -> None:
            bar.update(task, description=step.text, completed=step.done, total=step.total)

        yield update


def merge_summary(result: MergeResult) -> None:
    """One row per file, the totals, conflicts and branches that did not submit."""
    from kam.register.intake import STATUS_TEXT

    rows = [
        [
            f.file,
            f.branch,
            f.quarter,
            STATUS_TEXT.get(f.status, f.status),
            f.rows_in,
            f.merged,
            f.rejected,
            f.duplicate,
            f.reason,
        ]
        for f in result.files
    ]
    t = result.totals
    rows.append(["合计", "", "", "", t["rows_in"], t["merged"], t["rejected"], t["duplicate"], ""])
    simple_table(
        f"合并结果：{result.register}",
        ["文件", "单位", "季度", "状态", "行数", "合并", "拒收", "重复", "原因"],
        rows,
    )
    for c in result.conflicts:
        claims = "、".join(f"{cl.branch}（{cl.file}）" for cl in c.claims)
        out.print(f"[yellow]归属冲突[/] {c.key} {c.name or ''}：{claims}。{c.reason}")
    if result.missing_branches:
        out.print(f"[yellow]未报送单位[/]：{'、'.join(result.missing_branches)}")
    if result.cut_cells:
        cells = "、".join(result.cut_cells[:10]) + ("等" if len(result.cut_cells) > 10 else "")
        n = len(result.cut_cells)
        out.print(f"[yellow]超长文本[/] {n} 处超过 Excel 单元格上限，已截断：{cells}")
    hand_edits(result)
    if not result.written:
        out.print("所有文件均已合并过，名录未改动。")


def hand_edits(result: MergeResult) -> None:
    """What became of HQ's hand edits in the old register: kept, removed, or lost (listed)."""
    from kam.register.edits import LOST_HEADERS

    edits = result.edits
    if not edits.known or not (edits.kept or edits.removed or edits.lost):
        return
    out.print(f"手工修改：保留 {edits.kept} 行，手工删除 {edits.removed} 行。")
    if edits.lost:
        simple_table(
            f"未能保留的手工修改（{len(edits.lost)} 处）",
            LOST_HEADERS,
            [e.cells() for e in edits.lost],
        )
        out.print(f"清单另存于 {edits.lost_file}", soft_wrap=True)


def lost_edits_note(edits: EditReport) -> None:
    """One line on stderr (stdout may be JSON) when a rewrite could not keep hand edits."""
    if edits.lost:
        n, path = len(edits.lost), edits.lost_file
        err.print(f"[yellow]{n} 处手工修改未能保留[/]，清单：{path}", soft_wrap=True)
