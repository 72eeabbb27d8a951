"""The `kam` command: each command parses, calls the core, renders and exits (DOMAIN §7)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kam.cli import render
from kam.cli.addin_cmd import addin_app
from kam.errors import KamError, UsageError
from kam.rules import Rules, load_rules, user_rules
from kam.validate import ValidateSettings, validate_file

if TYPE_CHECKING:
    from kam.submission import Submission

EXIT_OK, EXIT_DATA_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="KAM 大客户管理：模板、校验、分级、风险与集团名录合并（key-account management）。",
)

app.add_typer(addin_app, name="addin")


class State:
    """Options shared by every command."""

    lang: str = os.environ.get("KAM_LANG", "zh")


@app.callback()
def _options(
    lang: Annotated[
        str, typer.Option("--lang", help="消息语言 zh 或 en（也可设环境变量 KAM_LANG）")
    ] = State.lang,
) -> None:
    State.lang = "en" if lang.lower().startswith("en") else "zh"


JsonOpt = Annotated[bool, typer.Option("--json", help="只在标准输出打印一个 JSON 文档")]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="规则文件（TOML）；缺省为 $KAM_RULES 或 ~/.kam/rules.toml，都没有则用内置默认规则",
    ),
]
TodayOpt = Annotated[
    str | None, typer.Option("--today", help="按此日期（YYYY-MM-DD）判断“不晚于今天”，缺省为今天")
]


def parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"{option} 应为 YYYY-MM-DD 格式的日期，收到“{text}”") from exc


def rules_from(path: Path | None) -> Rules:
    """--rules FILE, else the same file the Excel buttons use ($KAM_RULES, ~/.kam/rules.toml)."""
    return load_rules(path) if path else user_rules()


@app.command()
def template(
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("."),
    prefill: Annotated[
        Path | None,
        typer.Option("--prefill", help="集团名录：为各分公司写出按名录预填的下季度报送"),
    ] = None,
    quarter: Annotated[
        str | None, typer.Option("--quarter", help="预填报送的季度，如 2026Q4（与 --prefill 同用）")
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", help="只为这些单位预填（可重复）；缺省为名录中的全部单位"),
    ] = None,
    rules: RulesOpt = None,
) -> None:
    """写出空白的分公司季度报送模板（和空白集团名录），或用 --prefill 按名录预填各分公司的报送。"""
    if prefill is not None:
        _prefill(prefill, quarter, tuple(branch or ()), out, rules_from(rules))
        return
    from kam.register.columns import REGISTER_FILENAME
    from kam.register.writer import write_blank_register
    from kam.template import write_template

    out.mkdir(parents=True, exist_ok=True)
    for path in write_template(out):
        render.out.print(f"已写出 {path}")
    register = out / REGISTER_FILENAME
    if register.exists():  # a real register: never replace it with a blank one
        render.out.print(f"已有 {register}，未改动（空白名录只在该文件不存在时写出）")
    else:
        render.out.print(f"已写出 {write_blank_register(register)}")


def _prefill(
    register: Path, quarter: str | None, branches: tuple[str, ...], out: Path, rules: Rules
) -> None:
    from kam.prefill import PrefillSettings, prefill

    if not quarter:
        raise UsageError("--prefill 需要同时给出 --quarter（下季度，如 2026Q4）")
    done = prefill(PrefillSettings(register, quarter, out, branches, rules))
    render.prefill_table(done)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="要校验的报送工作簿")],
    json: JsonOpt = False,
    annotate: Annotated[
        Path | None, typer.Option("--annotate", help="另存一份在单元格上标注问题的副本")
    ] = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
) -> None:
    """校验一个报送工作簿，列出每个问题及其单元格。"""
    settings = ValidateSettings(today=parse_date(today, "--today"), rules=rules_from(rules))
    if annotate is not None:
        from kam.annotate import annotate_file

        result = annotate_file(file, annotate, settings)
        report = result.report
    else:
        report = validate_file(file, settings)
    if json:
        render.print_json(report.to_json(State.lang))
    else:
        render.report(report, State.lang)
        if annotate is not None and not report.unreadable:
            render.out.print(f"已写出标注副本 {annotate}")
            for part in result.dropped:
                render.err.print(f"[yellow]注意[/]：标注副本未保留 {part}")
    if report.unreadable:
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_DATA_ERRORS)


@app.command()
def merge(
    inbox: Annotated[Path, typer.Argument(help="本季度各分公司报送文件所在文件夹")],
    register: Annotated[
        Path | None,
        typer.Option(
            "--register",
            help="集团大客户名录工作簿（无则新建）。不填：规则文件 [merge] register_file，"
            "否则报送文件夹旁的 集团大客户名录.xlsx",
        ),
    ] = None,
    branches: Annotated[
        Path | None,
        typer.Option("--branches", help="分公司清单（文本文件，每行一个单位），用于列出未报送单位"),
    ] = None,
    rules: RulesOpt = None,
    today: TodayOpt = None,
    json: JsonOpt = False,
) -> None:
    """把一个季度的分公司报送合并进集团大客户名录（不丢数据，列出拒收与归属冲突）。"""
    from kam.register.location import merge_settings
    from kam.register.merge import merge as run_merge

    settings = merge_settings(
        inbox,
        rules_from(rules),
        register=register,
        branches=read_branches(branches) if branches is not None else None,
        today=parse_date(today, "--today"),
    )
    if json:
        result = run_merge(settings)
        render.print_json(result.to_json())
    else:
        with render.merge_progress() as progress:
            result = run_merge(settings, progress)
        render.merge_summary(result)
    raise typer.Exit(EXIT_DATA_ERRORS if result.has_errors else EXIT_OK)


def read_branches(path: Path | None) -> tuple[str, ...]:
    """The known branch list: one unit per line, blank lines and # comments ignored."""
    if path is None:
        return ()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"无法读取分公司清单 {path}：{exc}") from exc
    return tuple(x.strip() for x in lines if x.strip() and not x.lstrip().startswith("#"))


@app.command()
def tier(
    file: Annotated[Path, typer.Argument(help="报送工作簿")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评价日期 YYYY-MM-DD，缺省为报送季度末")
    ] = None,
    rules: RulesOpt = None,
    json: JsonOpt = False,
) -> None:
    """按合同台账计算名录中每个客户的等级、依据，并与登记等级核对。"""
    from kam.tier_report import tier_submission

    result = tier_submission(read_submission(file), parse_date(as_of, "--as-of"), rules_from(rules))
    if json:
        render.print_json(result.to_json())
    else:
        render.tier_table(result, State.lang)
    raise typer.Exit(EXIT_OK)


@app.command()
def risk(
    file: Annotated[Path, typer.Argument(help="报送工作簿或集团大客户名录")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评价日期 YYYY-MM-DD，缺省为（最新）报送季度末")
    ] = None,
    rules: RulesOpt = None,
    json: JsonOpt = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="重写名录的风险等级、风险原因、风险清单与底色（仅名录）")
    ] = False,
) -> None:
    """按风险预警规则评估每个客户的风险等级与原因（破产征兆置顶）。"""
    from kam.register.reassess import apply_risk, register_risk
    from kam.risk import assess, risk_input, risk_json

    when = parse_date(as_of, "--as-of")
    settings = rules_from(rules)
    if is_register(file):
        if apply:
            render.lost_edits_note(apply_risk(file, settings))
        found = register_risk(file, settings, when)
        result, when, doc = found.result, found.as_of, found.to_json()
    else:
        if apply:
            raise UsageError("--apply 只能用于集团大客户名录（由 kam merge 生成的工作簿）")
        sub = read_submission(file)
        when = when or sub.as_of
        if when is None:
            raise UsageError(f"{file}: 报送季度无法识别，请用 --as-of YYYY-MM-DD 指定评价日期")
        result = assess(risk_input(sub), when, settings)
        doc = risk_json(result, when)
    if json:
        render.print_json(doc)
    else:
        render.risk_table(result, when)
        if apply:
            render.out.print(f"已更新 {file} 的风险列、风险清单与底色（旧版本保存在 history/）")
    raise typer.Exit(EXIT_OK)


def is_register(path: Path) -> bool:
    """True for a workbook that has the register's main sheet (decided without parsing)."""
    from kam.io.files import DEFAULT_LIMITS
    from kam.io.sniff import sniff
    from kam.register.columns import REG_ROSTER

    return any(part.name == REG_ROSTER.sheet for part in sniff(path, DEFAULT_LIMITS).sheets)


def read_submission(path: Path) -> Submission:
    from kam.reader import read_file

    return read_file(path)


@app.command()
def demo(
    dir: Annotated[Path, typer.Option("--dir", help="示例数据与结果的目录")] = Path("kam-demo"),
) -> None:
    """生成一个季度的示例报送（含常见错误），逐一校验、写出标注副本，并合并进集团大客户名录。"""
    from kam.demo import run_demo

    summary = run_demo(dir, State.lang)
    render.simple_table(summary.title, summary.headers, summary.rows)
    if summary.merge is not None:
        render.merge_summary(summary.merge)
    for line in summary.notes:
        render.out.print(line)


def main() -> None:
    """Entry point: only here do kam's exceptions become a message and exit code 2."""
    try:
        app(standalone_mode=True)
    except KamError as exc:
        render.failure(str(exc))
        raise SystemExit(EXIT_CANNOT_RUN) from None
