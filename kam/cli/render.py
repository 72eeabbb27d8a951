"""Everything the CLI shows: rich tables for people, one JSON document for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kam.findings import Report
from kam.messages import Severity
from kam.reason_en import reason_en
from kam.rule_names import rule_name

if TYPE_CHECKING:
    import datetime as dt

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
        rows = [
            [
                f.cell or "",
                f"[{SEVERITY_STYLE[f.level]}]{label(f.level, lang)}[/]",
                rule_name(f.rule, lang),
                f.message(lang),
            ]
            for f in findings
        ]
        headers = [label(key, lang) for key in ("cell", "severity", "rule", "message")]
        show_table(sheet, headers, rows)
    if rep.skipped_sheets:
        names = "、".join(rep.skipped_sheets)
        out.print(f"[yellow]未读取[/] Excel 4.0 宏表：{names}（宏表不是报送数据）")
    s = rep.summary()
    line = label("summary", lang).format(**s)
    if s["completeness"] is not None:
        line += "；" + label("completeness", lang).format(value=s["completeness"])
    out.print(line)


def simple_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain table (summaries of demo, tier and merge runs)."""
    show_table(title, headers, [[blank_or_text(v) for v in row] for row in rows])


ATOMIC = 20  # cells: a column no wider than this (codes, dates, tiers) is never wrapped
TEXT_MIN = 30  # cells a text column needs to read well; with less the rows become a list


def show_table(title: str, headers: Sequence[str], rows: list[list[str]]) -> None:
    """A table when it fits the terminal with codes unbroken; else one block per row.

    At 80 columns (and piped, where rich assumes 80) a wide table would break 18-character
    codes and leave two-character fragments; the list form wraps only its text lines.
    """
    natural = [max([cell_len(h)] + [_width(row[c]) for row in rows]) for c, h in enumerate(headers)]
    atomic = [w <= ATOMIC for w in natural]
    spare = (
        out.width
        - (3 * len(headers) + 1)
        - sum(w for w, a in zip(natural, atomic, strict=True) if a)
    )
    texts = [w for w, a in zip(natural, atomic, strict=True) if not a]
    if not texts or (spare >= 0 and spare // len(texts) >= min(TEXT_MIN, max(texts))):
        table = Table(title=title, title_justify="left")
        for h, w, a in zip(headers, natural, atomic, strict=True):
            table.add_column(h, no_wrap=a, min_width=w if a else None, overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    out.print(f"[bold]{title}[/]", soft_wrap=True)
    for row in rows:
        head = "  ".join(f"{h}：{v}" for h, v in zip(headers[:2], row[:2], strict=True) if v)
        out.print("· " + head, soft_wrap=True)
        for h, v in zip(headers[2:], row[2:], strict=True):
            if v:
                out.print(f"    {h}：" + v.replace("\n", "\n      "), soft_wrap=True)


def _width(value: str) -> int:
    """Display cells of a value's widest line (rich markup not counted)."""
    return max((cell_len(line) for line in Text.from_markup(value).plain.split("\n")), default=0)


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


def blank_or_text(value: object) -> str:
    """A table cell: empty for None and NaN (a formula cell with no value), never "nan"."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def error_document(code: str, message: str) -> dict[str, dict[str, str]]:
    """The --json document of a run that could not be done (exit code 2)."""
    return {"error": {"code": code, "message": message}}


def failure(message: str, lang: str = "zh") -> None:
    """A message for a run that could not be done (exit code 2); one line, never hard-wrapped
    (it may go to a log file)."""
    head = "Cannot run" if lang == "en" else "无法执行"
    err.print(f"[bold red]{head}[/]{': ' if lang == 'en' else '：'}{message}", soft_wrap=True)


CHECK_TEXT = {
    "ok": "一致",
    "tier_unsupported": "需认定依据",
    "tier_upgrade": "建议升级",
    "unverified": "待核实",
}


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
            reason_en(c["reason"]) if lang == "en" else c["reason"],
        ]
        for row, c in result.customers.iterrows()
    ]
    simple_table(
        f"评价日期 {result.as_of.isoformat()}",
        [
            result.numbering,
            "统一社会信用代码",
            "客户名称",
            "登记等级",
            "计算等级",
            "核对",
            "等级依据",
        ],
        rows,
    )


LEVEL_STYLE = {"高": "bold white on red", "中": "black on dark_orange", "低": "black on yellow"}


def risk_table(result: RiskResult, as_of: dt.date, lang: str = "zh") -> None:
    """Customers under a bankruptcy warning first, then every customer with a risk."""
    if result.bankrupt:
        out.print(
            f"[bold white on red] 紧急预警：破产征兆 [/] {bankrupt_names(result)}", soft_wrap=True
        )
    risky = result.customers[result.customers["level"] != "无"]
    order = risky["level"].map({"高": 0, "中": 1, "低": 2}).sort_values(kind="stable").index
    rows = [
        [
            risky.at[i, "uscc"],
            risky.at[i, "name"],
            f"[{LEVEL_STYLE[risky.at[i, 'level']]}]{risky.at[i, 'level']}[/]",
            "\n".join(
                f"{rule_name(r.rule, lang)}（{r.level}）{r.detail}" for r in risky.at[i, "reasons"]
            ),
        ]
        for i in order
    ]
    counts = f"{len(risky)} / {len(result.customers)}"
    simple_table(
        f"风险评估（评价日期 {as_of.isoformat()}）：{counts} 个客户有风险",
        ["统一社会信用代码", "客户名称", "风险等级", "原因"],
        rows,
    )


def bankrupt_names(result: RiskResult) -> str:
    """Each customer under a bankruptcy warning as 名称（责任单位，代码）."""
    c = result.customers.drop_duplicates("uscc").set_index("uscc")
    named = []
    for key in result.bankrupt:
        name = blank_or_text(c.at[key, "name"]) if key in c.index else ""
        unit = blank_or_text(c.at[key, "unit"]) if key in c.index and "unit" in c else ""
        named.append(f"{name}（{'，'.join(x for x in (unit, key) if x)}）" if name else key)
    return "、".join(named)
