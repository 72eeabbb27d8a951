"""The user guide docs/使用指南.md stays true to the code it describes.

Every name checked here comes from the code (ribbon.xml, addin/udfs.py, kam.register, the
typer app), so a renamed button, function, sheet or command fails here until the guide
follows. Command lines in the guide's fenced code blocks are parsed by the real `kam` app.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from addin import udfs
from kam.cli.app import EXIT_CANNOT_RUN, EXIT_DATA_ERRORS, EXIT_OK, app
from kam.insight.trends import HISTORY
from kam.io.book import MARKS_SHEET, RESULTS_SHEET
from kam.register.columns import (
    HQ_NOTE,
    MANUAL_RISK,
    REG_ROSTER,
    REGISTER_FILENAME,
    REGISTER_SHEETS,
    SOURCES,
)
from kam.register.fingerprints import COMPUTED_IDS, FINGERPRINT_SHEET, STORED_SHEETS
from kam.register.merge import LOST_EDITS_NAME
from kam.register.repeats import REPEATS
from kam.register.safety import HISTORY_DIR, NEW_SUFFIX, lock_path, new_copy_path
from kam.template import TEMPLATE_FILENAME

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "使用指南.md"
RIBBON = ROOT / "addin" / "ribbon.xml"
UI = "{http://schemas.microsoft.com/office/2006/01/customui}"

FENCE = re.compile(r"^([ \t]*)```([^\n`]*)\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
OUTPUT_BLOCKS = frozenset({"text"})  # program output and file listings, not commands
SHELL_STOP = frozenset({"|", "||", "&&", ">", ">>", "2>", "<"})
COMMENT = re.compile(r"^(#|REM\b|::)", re.I)
BACKTICKED = re.compile(r"`([^`]+)`")


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def section(title_part: str) -> str:
    """The body of the `## ` section whose heading contains title_part."""
    parts = re.split(r"^## ", guide(), flags=re.M)
    found = [p for p in parts[1:] if title_part in p.splitlines()[0]]
    assert len(found) == 1, f"the guide needs exactly one section titled …{title_part}…"
    return found[0]


def table_first_column(text: str) -> list[str]:
    """First cells of the Markdown table rows in text (header and divider rows skipped)."""
    cells = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells.append(line.strip("|").split("|")[0].strip())
    return cells[1:] if cells else []  # the first row is the header


# --- the ribbon -------------------------------------------------------------------------


def ribbon_labels() -> list[str]:
    root = ET.parse(RIBBON).getroot()
    return [b.get("label", "") for b in root.iter(f"{UI}button")]


def test_ribbon_tab_and_every_button_label_are_in_the_guide() -> None:
    root = ET.parse(RIBBON).getroot()
    tabs = [t.get("label", "") for t in root.iter(f"{UI}tab")]
    labels = ribbon_labels()
    assert labels and tabs
    text = guide()
    missing = [x for x in [*tabs, *labels] if x not in text]
    assert not missing, f"ribbon labels the guide never names: {missing}"


def test_the_button_table_lists_exactly_the_ribbon_buttons() -> None:
    listed = table_first_column(section("六个按钮"))
    assert sorted(listed) == sorted(ribbon_labels())


# --- worksheet functions ----------------------------------------------------------------


def udf_names() -> list[str]:
    """Functions of addin/udfs.py that carry @xw.func (what Import Functions brings in)."""
    tree = ast.parse(Path(udfs.__file__).read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            if isinstance(target, ast.Attribute) and target.attr == "func":
                names.append(node.name)
    return names


def documented_signature(name: str) -> str:
    """KA_TIER(amounts, sign_dates, strategic, [as_of]): optional arguments in brackets."""
    params = inspect.signature(getattr(udfs, name)).parameters.values()
    shown = [p.name if p.default is inspect.Parameter.empty else f"[{p.name}]" for p in params]
    return f"{name}({', '.join(shown)})"


def formula_calls(text: str) -> list[tuple[str, list[str]]]:
    """Each `=NAME(args)` in text with its top-level arguments."""
    calls = []
    for m in re.finditer(r"=([A-Z][A-Z0-9_]*)\(", text):
        depth, quoted, args, start = 1, False, [], m.end()
        i = start
        while i < len(text) and depth:
            ch = text[i]
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch == "(":
                depth += 1
            elif not quoted and ch == ")":
                depth -= 1
            elif not quoted and ch == "," and depth == 1:
                args.append(text[start:i].strip())
                start = i + 1
            i += 1
        assert depth == 0, f"unbalanced formula in the guide: {text[m.start() : m.start() + 60]}"
        last = text[start : i - 1].strip()
        calls.append((m.group(1), [*args, last] if args or last else []))
    return calls


def test_udf_module_exposes_functions() -> None:
    assert udf_names(), "no @xw.func in addin/udfs.py: the test would check nothing"
    assert sorted(udf_names()) == sorted(udfs.__all__)


@pytest.mark.parametrize("name", udf_names())
def test_every_udf_is_documented_with_its_signature_and_an_example(name: str) -> None:
    text = guide()
    assert documented_signature(name) in text
    assert any(called == name for called, _ in formula_calls(text)), f"no ={name}(…) example"


def test_every_formula_example_calls_a_real_udf_with_a_valid_argument_count() -> None:
    calls = [(n, a) for n, a in formula_calls(guide()) if n.startswith("KA_")]
    assert calls
    for name, args in calls:
        assert name in udf_names(), f"the guide calls {name}, which addin/udfs.py lacks"
        params = inspect.signature(getattr(udfs, name)).parameters.values()
        required = sum(p.default is inspect.Parameter.empty for p in params)
        assert required <= len(args) <= len(params), f"{name}({', '.join(args)})"


# --- the register -----------------------------------------------------------------------


def test_register_section_lists_exactly_the_visible_register_sheets_in_tab_order() -> None:
    listed = [
        m.group(1)
        for cell in table_first_column(section("第一次合并"))
        if (m := BACKTICKED.fullmatch(cell))
    ]
    unknown = [s for s in listed if s not in REGISTER_SHEETS]
    assert not unknown, f"the guide names register sheets the code does not write: {unknown}"
    assert listed == list(REGISTER_SHEETS)


def test_hidden_sheets_named_in_the_guide_exist() -> None:
    hidden = {SOURCES.sheet, FINGERPRINT_SHEET, MARKS_SHEET, HISTORY.sheet, REPEATS.sheet}
    prose = FENCE.sub("", guide())
    named = {m for m in BACKTICKED.findall(prose) if m.startswith("_kam")}
    assert named, "the guide should warn about the register's hidden sheets"
    assert named <= hidden


def test_hand_edit_section_names_the_recomputed_columns_and_rebuilt_sheets() -> None:
    text = section("手工修改")
    recomputed = [REG_ROSTER[fid].header for fid in COMPUTED_IDS]
    rebuilt = [s for s in REGISTER_SHEETS if s not in STORED_SHEETS]
    missing = [x for x in [*recomputed, *rebuilt] if x not in text]
    assert not missing, f"section 7 does not mention: {missing}"


def test_guide_uses_the_real_file_column_and_folder_names() -> None:
    text = guide()
    register = Path(REGISTER_FILENAME)
    names = [
        HISTORY_DIR,
        NEW_SUFFIX + register.suffix,  # ".新.xlsx"
        new_copy_path(register).name,
        lock_path(register).name,
        LOST_EDITS_NAME,
        MANUAL_RISK.header,
        HQ_NOTE.header,
        REGISTER_FILENAME,
        TEMPLATE_FILENAME,
        RESULTS_SHEET,
    ]
    missing = [n for n in names if n not in text]
    assert not missing, f"the guide never names: {missing}"


# --- the command line -------------------------------------------------------------------


def command_lines() -> list[list[str]]:
    """The `kam …` invocations in the guide's fenced code blocks, as argument lists."""
    found = []
    for m in FENCE.finditer(guide()):
        if m.group(2).strip() in OUTPUT_BLOCKS:
            continue
        for line in textwrap.dedent(m.group(3)).splitlines():
            line = line.strip()
            if not line or COMMENT.match(line):
                continue
            tokens = line.split()
            if re.split(r"[\\/]", tokens[0])[-1].lower() in ("kam", "kam.exe"):
                args = tokens[1:]
            elif len(tokens) > 2 and tokens[1:3] == ["-m", "kam"]:
                args = tokens[3:]
            else:
                continue
            stop = next((i for i, t in enumerate(args) if t in SHELL_STOP), len(args))
            found.append(args[:stop])
    return found


def _option(cmd: Any, token: str) -> Any:
    """The option of cmd that token names, or None (typer may bundle its own click)."""
    name = token.split("=", 1)[0]
    for p in cmd.params:
        if p.param_type_name == "option" and name in (*p.opts, *p.secondary_opts):
            return p
    return None


def resolve(args: list[str]) -> tuple[list[str], Any, list[str]]:
    """(subcommand path, leaf command, its own arguments) of one `kam` argument list."""
    cmd = typer.main.get_command(app)
    path: list[str] = []
    i = 0
    while isinstance(getattr(cmd, "commands", None), dict):  # a group: global options, then
        while i < len(args) and args[i].startswith("-"):  # the name of a subcommand
            opt = _option(cmd, args[i])
            assert opt is not None, f"kam {' '.join(path)}: no option {args[i]}"
            i += 1 if opt.is_flag or "=" in args[i] else 2
        assert i < len(args), f"kam {' '.join(args)}: no subcommand"
        sub = cmd.commands.get(args[i])
        assert sub is not None, f"kam {' '.join(path)}: no subcommand {args[i]!r}"
        path.append(args[i])
        cmd, i = sub, i + 1
    return path, cmd, args[i:]


def test_guide_shows_command_lines_for_every_command() -> None:
    lines = command_lines()
    assert len(lines) >= 10, "the guide's code blocks hold fewer kam commands than expected"
    shown = {resolve(a)[0][0] for a in lines}
    assert set(typer.main.get_command(app).commands) <= shown  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", command_lines(), ids=lambda a: " ".join(["kam", *a]))
def test_every_command_line_in_the_guide_parses(args: list[str]) -> None:
    path, cmd, rest = resolve(args)
    done = CliRunner().invoke(app, [*path, "--help"])
    assert done.exit_code == 0, done.output
    try:  # parse the whole line (options, required arguments) without running it
        with cmd.make_context(" ".join(["kam", *path]), list(rest)):
            pass
    except Exception as exc:  # click's UsageError, from whichever click typer uses
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        pytest.fail(f"kam {' '.join(args)}: {message}")


def test_exit_codes_are_documented() -> None:
    text = section("命令行")
    for code in (EXIT_OK, EXIT_DATA_ERRORS, EXIT_CANNOT_RUN):
        assert f"| `{code}` |" in text
