"""What the CLI shows of a merge and of the register: files, totals, hand edits, scorecard."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kam.cli.render import err, out, simple_table

if TYPE_CHECKING:
    from kam.insight.kpi import Measure, Scorecard
    from kam.register.edits import EditReport
    from kam.register.merge import MergeResult, Step


@contextmanager
def merge_progress() -> Iterator[Callable[[Step], None]]:
    """A progress bar on stderr that moves one step per branch file read."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # Piped to a log, a bar's last frame would be noise: it is shown on a terminal only.
    with Progress(*columns, TimeElapsedColumn(), console=err, disable=not err.is_terminal) as bar:
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
    if result.unreadable_branches:
        out.print(f"[yellow]报送文件无法读取[/]：{'、'.join(result.unreadable_branches)}")
    for skipped in result.skipped:
        out.print(f"已跳过 {skipped['file']}：{skipped['reason']}", soft_wrap=True)
    if result.cut_cells:
        cells = "、".join(result.cut_cells[:10]) + ("等" if len(result.cut_cells) > 10 else "")
        n = len(result.cut_cells)
        out.print(f"[yellow]超长文本[/] {n} 处超过 Excel 单元格上限，已截断：{cells}")
    hand_edits(result)
    if result.swept:
        out.print(f"已清理上次中断的合并留下的临时文件：{'、'.join(result.swept)}")
    if result.notices_due:
        out.print(
            f"[bold red]预警通报待发 {result.notices_due} 份[/]（破产征兆客户）："
            f"运行 kam notice {result.register} 生成",
            soft_wrap=True,
        )
    if not result.written:
        out.print("所有文件均已合并过，名录未改动。")


def scorecard(card: Scorecard) -> None:
    """考核 per branch, one line per measure: value, numerator, denominator, target, met."""
    from kam.insight.kpi import SPECS

    def value(m: Measure, kind: str) -> str:
        if kind == "ratio" and isinstance(m.value, float):
            return f"{m.value:.1%}"
        return f"{m.value:,.2f}" if isinstance(m.value, float) else str(m.value)

    def target(m: Measure) -> str:
        return f"{m.target:.0%}" if isinstance(m.target, float) else str(m.target or "")

    met = {True: "达标", False: "[red]未达标[/]", None: ""}
    rows = [
        [
            b,
            s.header,
            value(ms[s.id], s.kind),
            ms[s.id].numerator,
            ms[s.id].denominator,
            target(ms[s.id]),
            met[ms[s.id].met],
        ]
        for b, ms in [*card.branches, ("合计（全集团）", card.group)]
        for s in SPECS
        if s.id in ms
    ]
    simple_table(
        f"考核 {card.quarter}（评价日期 {card.as_of.isoformat()}）",
        ["单位", "指标", "值", "分子", "分母", "目标", "是否达标"],
        rows,
    )


BRIEF_KPIS = (
    "on_time",
    "completeness",
    "error_rate",
    "issue_closure",
    "response_on_time",
    "top_contact_coverage",
    "high_risk_customers",
)


def scorecard_brief(card: Scorecard) -> None:
    """考核 one line per branch, values only (misses in red); kam kpi shows the parts."""
    from kam.insight.kpi import SPEC_BY_ID

    def cell(m: Measure) -> str:
        text = f"{m.value:.1%}" if isinstance(m.value, float) else str(m.value)
        return f"[red]{text}[/]" if m.met is False else text

    rows = [
        [b, *(cell(ms[k]) if k in ms else "" for k in BRIEF_KPIS)]
        for b, ms in [*card.branches, ("合计", card.group)]
    ]
    simple_table(
        f"考核 {card.quarter}（红色 = 未达目标；分子分母见名录“考核”表或 kam kpi）",
        ["单位", *(SPEC_BY_ID[k].header for k in BRIEF_KPIS)],
        rows,
    )


def notices(paths: Sequence[object]) -> None:
    """The 预警通报 written, one per bankruptcy customer."""
    if not paths:
        out.print("本期无破产征兆客户，无需发预警通报。")
    for p in paths:
        out.print(f"已写出预警通报 {p}", soft_wrap=True)


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
