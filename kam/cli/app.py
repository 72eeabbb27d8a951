"""The `kam` command: each command parses, calls the core, renders and exits (DOMAIN §7)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from kam.cli import render, render_register
from kam.cli.addin_cmd import addin_app
from kam.cli.inputs import (
    is_register,
    looks_like_register,
    parse_date,
    read_branches,
    read_submission,
    register_file,
    rules_from,
)
from kam.cli.zh import ChineseCommand, ChineseGroup, usage_error, use_chinese_panels
from kam.errors import KamError, UsageError
from kam.rules import Rules
from kam.validate import ValidateSettings, validate_file

EXIT_OK, EXIT_DATA_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2

use_chinese_panels()
app = typer.Typer(
    cls=ChineseGroup,
    add_completion=False,
    no_args_is_help=True,
    help="KAM 大客户管理：模板、校验、分级、风险与集团名录合并（key-account management）。",
)

app.add_typer(addin_app, name="addin", cls=ChineseGroup)


class State:
    """Options shared by every command."""

    lang: str = "zh"


LANGS = ("zh", "en")


def language(value: str, source: str) -> str:
    """zh or en from --lang or KAM_LANG (zh-CN, en_US and the like too); else a UsageError."""
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGS:
        raise UsageError(f"未知语言“{value}”（{source}）：只能是 zh（中文）或 en（English）")
    return code


def take_lang(args: list[str]) -> list[str]:
    """Set State.lang from --lang anywhere on the line (before or after the command), else
    from $KAM_LANG; return the other arguments."""
    rest: list[str] = []
    chosen = None
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        if arg == "--lang":
            chosen = next(items, None)
            if chosen is None:
                raise UsageError("--lang 需要一个值：zh 或 en")
        elif arg.startswith("--lang="):
            chosen = arg.removeprefix("--lang=")
        else:
            rest.append(arg)
    if chosen is not None:
        State.lang = language(chosen, "--lang")
    elif os.environ.get("KAM_LANG", "").strip():
        State.lang = language(os.environ["KAM_LANG"], "环境变量 KAM_LANG")
    return rest


@app.callback()
def _options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="消息语言 zh 或 en，可写在命令前或命令后（也可设环境变量 KAM_LANG）",
            show_default=False,
        ),
    ] = None,
) -> None:
    if lang is not None:  # main() takes --lang off the line first; this serves direct callers
        State.lang = language(lang, "--lang")


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


@app.command(cls=ChineseCommand)
def template(
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="覆盖已有的同名模板（缺省另存为“…(2).xlsx”）")
    ] = False,
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
    """写出空白的分公司季度报送模板（和空白集团名录），从不覆盖已有文件（除非 --force）；
    或用 --prefill 按名录为各分公司预填下季度的报送。"""
    if prefill is not None:
        _prefill(prefill, quarter, tuple(branch or ()), out, rules_from(rules))
        return
    from kam.register.columns import REGISTER_FILENAME
    from kam.register.writer import write_blank_register
    from kam.template import TEMPLATE_FILENAME, write_template

    out.mkdir(parents=True, exist_ok=True)
    for path in write_template(out, force=force):
        if path.name != TEMPLATE_FILENAME:
            render.out.print(f"已有 {out / TEMPLATE_FILENAME}，未改动（覆盖请加 --force）")
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


@app.command(cls=ChineseCommand)
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
    if looks_like_register(file):
        raise UsageError(
            f"{file} 是集团大客户名录，不是分公司报送文件；名录请用 kam risk（风险）、"
            "kam tier（等级）或 kam kpi（考核）查看"
        )
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


@app.command(cls=ChineseCommand)
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
        with render_register.merge_progress() as progress:
            result = run_merge(settings, progress)
        render_register.merge_summary(result)
    raise typer.Exit(EXIT_DATA_ERRORS if result.has_errors else EXIT_OK)


@app.command(cls=ChineseCommand)
def tier(
    file: Annotated[Path, typer.Argument(help="报送工作簿或集团大客户名录")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评价日期 YYYY-MM-DD，缺省为（最新）报送季度末")
    ] = None,
    rules: RulesOpt = None,
    json: JsonOpt = False,
) -> None:
    """按合同台账计算名录中每个客户的等级、依据，并与登记等级核对。"""
    from kam.tier_report import tier_register, tier_submission

    when, settings = parse_date(as_of, "--as-of"), rules_from(rules)
    if is_register(file):
        result = tier_register(file, when, settings)
    else:
        result = tier_submission(read_submission(file), when, settings)
    if json:
        render.print_json(result.to_json(State.lang))
    else:
        render.tier_table(result, State.lang)
    raise typer.Exit(EXIT_OK)


@app.command(cls=ChineseCommand)
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
    from kam.insight.build import register_exposure, submission_exposure
    from kam.insight.exposure import add_exposure
    from kam.register.previous import read_previous
    from kam.register.reassess import apply_risk, risk_of
    from kam.risk import assess, risk_input, risk_json

    when = parse_date(as_of, "--as-of")
    settings = rules_from(rules)
    if is_register(file):
        if apply:
            render_register.lost_edits_note(apply_risk(file, settings))
        prev = read_previous(file)
        found = risk_of(prev, str(file), settings, when)
        result, when, doc = found.result, found.as_of, found.to_json()
        exposure = register_exposure(prev, settings, when)
    else:
        if apply:
            raise UsageError("--apply 只能用于集团大客户名录（由 kam merge 生成的工作簿）")
        sub = read_submission(file)
        when = when or sub.as_of
        if when is None:
            raise UsageError(f"{file}: 报送季度无法识别，请用 --as-of YYYY-MM-DD 指定评价日期")
        from kam.register.inputs import submission_rejected

        result = assess(risk_input(sub), when, settings)
        doc = risk_json(result, when, submission_rejected(sub, settings).frame())
        exposure = submission_exposure(sub, settings, when)
    add_exposure(doc, exposure)
    if json:
        render.print_json(doc)
    else:
        render.risk_table(result, when, State.lang)
        if apply:
            render.out.print(f"已更新 {file} 的风险列、风险清单与底色（旧版本保存在 history/）")
    raise typer.Exit(EXIT_OK)


@app.command(cls=ChineseCommand)
def kpi(
    register: Annotated[Path, typer.Argument(help="集团大客户名录")],
    rules: RulesOpt = None,
    json: JsonOpt = False,
) -> None:
    """各单位考核（最新报送季度）：每项指标的分子、分母与目标（同名录“考核”表）。"""
    from kam.insight.build import read_insight

    found = read_insight(register_file(register), rules_from(rules))
    if json:
        render.print_json(found.card.to_json())
    else:
        render_register.scorecard(found.card)
    raise typer.Exit(EXIT_OK)


@app.command(cls=ChineseCommand)
def notice(
    register: Annotated[Path, typer.Argument(help="集团大客户名录")],
    out: Annotated[
        Path | None, typer.Option("--out", help="输出目录（缺省为名录所在目录）")
    ] = None,
    rules: RulesOpt = None,
    today: Annotated[
        str | None, typer.Option("--today", help="通报日期 YYYY-MM-DD，缺省为今天")
    ] = None,
) -> None:
    """为每个出现破产征兆的客户写出《预警通报》（Word），供集团范围预警。"""
    from kam.insight.build import read_insight
    from kam.insight.notice import write_notices

    day = parse_date(today, "--today") or dt.date.today()
    found = read_insight(register_file(register), rules_from(rules))
    paths = write_notices(found, out if out is not None else register.parent, day)
    render_register.notices(paths)
    raise typer.Exit(EXIT_OK)


@app.command(cls=ChineseCommand)
def demo(
    dir: Annotated[Path, typer.Option("--dir", help="示例数据与结果的目录")] = Path("kam-demo"),
) -> None:
    """生成一个季度的示例报送（含常见错误），逐一校验、写出标注副本，并合并进集团大客户名录。"""
    from kam.demo import run_demo

    summary = run_demo(dir, State.lang)
    render.simple_table(summary.title, summary.headers, summary.rows)
    if summary.merge is not None:
        render_register.merge_summary(summary.merge)
    if summary.scorecard is not None:
        render_register.scorecard_brief(summary.scorecard)
    render_register.notices(summary.notices)
    for line in summary.notes:
        render.out.print(line)


def main() -> None:
    """Entry point: only here do kam's exceptions and OS errors become a message and exit 2.

    With --json anywhere on the line, a run that cannot be done still prints one JSON
    document, `{"error": {"code", "message"}}`, for every command (usage errors included).
    """
    from kam.cli.failures import error_code, os_error_text

    as_json = "--json" in sys.argv[1:]

    def cannot_run(code: str, message: str) -> NoReturn:
        if as_json:
            render.print_json(render.error_document(code, message))
        else:
            render.failure(message, State.lang)
        raise SystemExit(EXIT_CANNOT_RUN)

    try:
        code = app(args=take_lang(sys.argv[1:]), standalone_mode=False, prog_name="kam")
    except typer.TyperException as exc:  # bad option, missing argument (found while parsing)
        said = exc.format_message()
        if not said.strip():  # no command given: typer has printed the help
            raise SystemExit(EXIT_CANNOT_RUN) from None
        english = f"{said} (see: kam --help)"
        cannot_run("usage", english if State.lang == "en" else usage_error(said))
    except typer.Abort:
        raise SystemExit(1) from None
    except KamError as exc:
        cannot_run(error_code(exc), str(exc))
    except OSError as exc:  # permission, missing folder, read-only or full disk: never a traceback
        cannot_run(*os_error_text(exc, State.lang))
    raise SystemExit(code if isinstance(code, int) else EXIT_OK)
