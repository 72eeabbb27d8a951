"""kam.xlam built on Linux: ribbon, VBA wiring, UDF module, LibreOffice opening, macros."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream
from typer.testing import CliRunner

from addin import build, install
from kam.cli.addin_cmd import addin_app
from kam.errors import KamError
from kam.forms import ROSTER
from kam.io.openpyxl_book import OpenpyxlBook
from kam.template import TEMPLATE_FILENAME
from macros import new_template, risk_marks

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"
BUTTONS = ["校验本簿", "清除标记", "计算等级", "合并报送", "风险标记", "新建模板"]
UDFS = {"KA_TIER", "KA_TIER_REASON", "KA_TIERS", "KA_USCC_OK"}
CALLBACK = re.compile(
    r"^Public Sub (\w+)\(control As IRibbonControl\)\r?\n(.*?)^End Sub", re.M | re.S
)
COMMAND = re.compile(r'RunKam "import ([\w.]+); ([\w.]+)\.main\(\)"')


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build.build_addin(tmp_path_factory.mktemp("addin") / "out")


def vba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name: code for _, _, name, code in parser.extract_all_macros()}
    finally:
        parser.close()


def buttons(path: Path) -> list[ElementTree.Element]:
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read(build.CUSTOM_UI_PART))
    (tab,) = root.iter(f"{UI}tab")
    assert (tab.get("id"), tab.get("label")) == ("kamTab", "大客户管理")
    return list(tab.iter(f"{UI}button"))


def test_the_package_is_an_addin_carrying_the_ribbon(xlam: Path) -> None:
    assert xlam.name == "kam.xlam"
    with zipfile.ZipFile(xlam) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("_rels/.rels").decode()
        assert "xl/vbaProject.bin" in z.namelist()
    assert build.XLAM_MAIN in types and build.XLSM_MAIN not in types
    assert "2007/relationships/ui/extensibility" in rels and build.CUSTOM_UI_PART in rels


def test_the_tab_has_six_labelled_buttons_with_icons_and_tips(xlam: Path) -> None:
    found = buttons(xlam)
    assert [b.get("label") for b in found] == BUTTONS
    for b in found:
        assert b.get("imageMso") and b.get("onAction")
        assert b.get("screentip") == b.get("label")
        assert re.search(r"[\u4e00-\u9fff]{6}", b.get("supertip", ""))


def test_every_button_calls_a_vba_procedure_that_runs_a_macro(xlam: Path) -> None:
    modules = vba_modules(xlam)
    assert set(modules) == {"KamAddin.bas", "ThisWorkbook.cls", "Sheet1.cls"}
    callbacks = dict(CALLBACK.findall(modules["KamAddin.bas"]))
    actions = [b.get("onAction") for b in buttons(xlam)]
    assert sorted(actions) == sorted(callbacks)
    targets = []
    for action in actions:
        (command,) = COMMAND.findall(callbacks[action])
        module_name, called = command
        assert called == module_name and module_name.startswith("macros.")
        module = importlib.import_module(module_name)
        assert callable(module.main) and callable(module.run)
        targets.append(module_name)
    assert len(set(targets)) == 6
    assert all(re.search(r'main\(\)", ChrW\(', callbacks[a]) for a in actions)  # status text
    assert "Application.StatusBar = busy" in modules["KamAddin.bas"]
    assert 'XLWINGS_RUNPYTHON As String = "xlwings.xlam!RunPython"' in modules["KamAddin.bas"]


def test_the_xlwings_addin_defines_the_runpython_the_buttons_call() -> None:
    spec = importlib.util.find_spec("xlwings")
    assert spec is not None and spec.origin is not None
    shipped = Path(spec.origin).parent / "addin" / "xlwings.xlam"
    main = vba_modules(shipped)["Main.bas"]
    assert "Public Function RunPython(PythonCommand As String)" in main


def test_vba_source_in_the_project_is_ascii_with_chinese_as_chrw(xlam: Path) -> None:
    code = vba_modules(xlam)["KamAddin.bas"]
    assert code.isascii()
    # 大客户管理, the message box title, survives as ChrW() code points.
    assert "ChrW(&H5927) & ChrW(&H5BA2) & ChrW(&H6237) & ChrW(&H7BA1) & ChrW(&H7406)" in code


@pytest.mark.libreoffice
def test_libreoffice_opens_the_addin_and_reads_its_vba(xlam: Path, tmp_path: Path) -> None:
    # Re-saving as .xlsm makes LibreOffice load the workbook and import the VBA project;
    # the module it writes back must hold every callback.
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--infilter=Calc MS Excel 2007 XML",
            "--convert-to",
            "xlsm:Calc MS Excel 2007 VBA XML",
            "--outdir",
            str(tmp_path),
            str(xlam),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = tmp_path / "kam.xlsm"
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    wb = openpyxl.load_workbook(out)
    assert "kam.xlam" in wb.active["A1"].value
    code = vba_modules(out)["KamAddin.bas"]
    assert sorted(CALLBACK.findall(code)) and {name for name, _ in CALLBACK.findall(code)} == {
        b.get("onAction") for b in buttons(xlam)
    }


def test_the_udf_module_exposes_exactly_the_four_functions_with_decorators() -> None:
    # On Linux xlwings' decorators are no-ops (no __xlfunc__), so read them from the source.
    source = Path(importlib.import_module("addin.udfs").__file__ or "").read_text(encoding="utf-8")
    decorated = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and any(
            ast.unparse(d).startswith("xw.") for d in node.decorator_list
        ):
            decorated[node.name] = node
    assert set(decorated) == UDFS
    udfs = importlib.import_module("addin.udfs")
    assert set(udfs.__all__) == UDFS
    for name, node in decorated.items():
        decorators = [ast.unparse(d) for d in node.decorator_list]
        assert decorators[0] == "xw.func"
        documented = {
            d.args[0].value
            for d in node.decorator_list
            if isinstance(d, ast.Call) and ast.unparse(d.func) == "xw.arg"
            for kw in d.keywords
            if kw.arg == "doc" and isinstance(d.args[0], ast.Constant)
        }
        assert documented == {a.arg for a in node.args.args}, name
        assert re.search(r"[\u4e00-\u9fff]", ast.get_docstring(node) or ""), name


def test_chinese_literals_become_chrw_and_ascii_lines_stay() -> None:
    src = 'Sub A()\n    MsgBox "共 3 个", vbOKOnly, "x"\nEnd Sub\n'
    out = build.ascii_vba(src)
    assert out.split("\r\n")[1] == ('    MsgBox ChrW(&H5171) & " 3 " & ChrW(&H4E2A), vbOKOnly, "x"')
    assert out.startswith("Sub A()\r\n") and out.endswith("End Sub\r\n")


def test_chinese_outside_a_literal_is_refused_with_the_line() -> None:
    with pytest.raises(build.AddinBuildError, match="第 2 行"):
        build.ascii_vba("Option Explicit\n' 中文注释\n")


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=9000),
        st.integers(3600, 4200).map(lambda n: bytes(i % 251 for i in range(n))),
    )
)
def test_compress_round_trips_through_oletools(data: bytes) -> None:
    packed = build.compress(data)
    back = decompress_stream(bytearray(packed))
    # Padding (spaces) may follow the data, never anything else.
    assert back[: len(data)] == data and set(back[len(data) :]) <= {0x20}
    assert len(back) - len(data) < build.CHUNK


# -- the three new buttons, headless ------------------------------------------------------


def open_book(path: Path) -> OpenpyxlBook:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.save(path)
    return OpenpyxlBook.open(path)


def test_risk_button_on_a_book_that_is_not_a_register_says_so(tmp_path: Path) -> None:
    book = open_book(tmp_path / "总台账.xlsx")
    risk_marks.run(book)
    ((title, text),) = book.alerts
    assert title == risk_marks.TITLE and "不是集团大客户名录" in text


def test_new_template_writes_beside_the_book_and_never_overwrites(tmp_path: Path) -> None:
    book = open_book(tmp_path / "分公司.xlsx")
    folder = new_template.target_folder(str(book.path))
    assert folder == tmp_path
    new_template.run(book, folder)
    written = tmp_path / TEMPLATE_FILENAME
    assert book.alerts == [("新建模板", f"已生成空白模板：{written}")]
    assert ROSTER.sheet in openpyxl.load_workbook(written).sheetnames
    before = written.read_bytes()
    new_template.run(book, folder)
    title, text = book.alerts[-1]
    assert title == "新建模板" and "已存在，未覆盖" in text and str(written) in text
    assert written.read_bytes() == before


def test_an_unsaved_book_gets_the_documents_folder(tmp_path: Path) -> None:
    assert new_template.target_folder("工作簿1", home=tmp_path) == tmp_path
    (tmp_path / "Documents").mkdir()
    assert new_template.target_folder("工作簿1", home=tmp_path) == tmp_path / "Documents"
    url = "https://d.docs.live.net/abc/分公司.xlsx"
    assert new_template.target_folder(url, home=tmp_path) == tmp_path / "Documents"


# -- install / doctor and the CLI group -----------------------------------------------------


def test_install_on_linux_says_desktop_excel_is_needed_and_names_the_cli(tmp_path: Path) -> None:
    settings = install.InstallSettings(platform="linux", home=tmp_path)
    with pytest.raises(install.DesktopExcelRequiredError) as caught:
        install.install(settings)
    assert isinstance(caught.value, KamError)
    text = str(caught.value)
    assert "桌面版 Excel" in text and "kam merge" in text and "kam validate" in text
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("platform", "conf", "key"),
    [
        ("win32", ".xlwings/xlwings.conf", "INTERPRETER_WIN"),
        ("darwin", "Library/Containers/com.microsoft.Excel/Data/xlwings.conf", "INTERPRETER_MAC"),
    ],
)
def test_config_is_written_in_xlwings_format_keeping_other_keys(
    platform: str, conf: str, key: str, tmp_path: Path
) -> None:
    settings = install.InstallSettings(platform=platform, home=tmp_path, python=Path("/py/python"))
    path = tmp_path / conf
    path.parent.mkdir(parents=True)
    path.write_text('"SHOW CONSOLE","True"\n"UDF MODULES","old"\n', encoding="utf-8")
    assert install.write_config(settings) == path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert '"SHOW CONSOLE","True"' in lines and '"UDF MODULES","addin.udfs"' in lines
    assert f'"{key}","/py/python"' in lines
    assert f'"PYTHONPATH","{install.PROJECT_ROOT}"' in lines
    assert install.read_config(path)["UDF MODULES"] == "addin.udfs"


def test_doctor_reports_each_problem_with_a_chinese_fix(tmp_path: Path) -> None:
    settings = install.InstallSettings(platform="win32", home=tmp_path)
    rows = {r.check: r for r in install.doctor(settings)}
    assert rows["xlwings 已安装"].ok and rows["工作表函数模块 addin.udfs"].ok
    assert rows["按钮宏（macros/）"].ok and rows["桌面版 Excel（Windows / macOS）"].ok
    config_rows = [r for r in rows.values() if r.check.startswith("配置项")]
    assert len(config_rows) == 3 and not any(r.ok for r in config_rows)
    assert all("kam addin install" in r.fix for r in rows.values() if not r.ok)

    install.write_config(settings)
    build.build_addin(settings.build_dir)
    assert all(r.ok for r in install.doctor(settings))

    linux = install.doctor(install.InstallSettings(platform="linux", home=tmp_path))
    assert [r.ok for r in linux if r.check.startswith("桌面版")] == [False]


def test_cli_group_builds_and_refuses_install_on_linux(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(addin_app, ["build", "--out", str(tmp_path / "d")])
    assert done.exit_code == 0 and (tmp_path / "d" / "kam.xlam").is_file()
    if not install.InstallSettings().desktop_excel:
        done = runner.invoke(addin_app, ["install"])
        assert isinstance(done.exception, install.DesktopExcelRequiredError)


def test_kam_and_the_build_never_import_xlwings() -> None:
    code = (
        "import sys, kam.cli.addin_cmd, addin.build, addin.install; "
        "addin.install.doctor(); assert 'xlwings' not in sys.modules, 'xlwings imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_config_uses_the_windows_code_page_xlwings_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = Path("C:/Users/张伟/kam/.venv/Scripts/python.exe")
    settings = install.InstallSettings(platform="win32", home=tmp_path, python=python)
    monkeypatch.setattr(install.locale, "getpreferredencoding", lambda _=True: "gbk")
    path = install.write_config(settings)
    assert f'"INTERPRETER_WIN","{python}"' in path.read_bytes().decode("gbk").splitlines()
    assert install.read_config(path, "gbk")["INTERPRETER_WIN"] == str(python)
    monkeypatch.setattr(install.locale, "getpreferredencoding", lambda _=True: "cp1252")
    with pytest.raises(install.AddinInstallError, match="张"):
        install.write_config(settings)


# -- the xlwings step: judged by the file it leaves, since xlwings exits 0 on failure ------

SAID_OK = "Successfully installed the xlwings add-in! Please restart Excel."
SAID_BUSY = (
    "Error: Failed to install the add-in: If Excel is running, quit Excel and try again. "
    "If you are using the '--glob' option make sure to run this command from an Elevated "
    "Command Prompt."
)


def _fake_python(tmp_path: Path, xlstart: Path, *, said: str, copies: bool) -> Path:
    """An interpreter that acts as xlwings_step.py would under Excel, exit code 0 always."""
    copy = (
        'if [ "$2" = "--file" ]; then cp "$3" "$XLSTART/"; '
        'else echo x > "$XLSTART/xlwings.xlam"; fi'
        if copies
        else ":"
    )
    script = tmp_path / "python"
    script.write_text(
        f'#!/bin/bash\nXLSTART="{xlstart}"\n{copy}\necho "{said}"\n'
        'echo "KAM_ADDIN_DIR=$XLSTART"\nexit 0\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_install_copies_both_add_ins_and_writes_the_config(tmp_path: Path) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    python = _fake_python(tmp_path, xlstart, said=SAID_OK, copies=True)
    settings = install.InstallSettings(platform="win32", home=tmp_path / "home", python=python)
    lines = install.install(settings)
    assert (xlstart / "kam.xlam").read_bytes() == (settings.build_dir / "kam.xlam").read_bytes()
    assert (xlstart / "xlwings.xlam").is_file()
    assert str(xlstart / "kam.xlam") in lines[0]
    assert install.read_config(settings.config_file)["UDF MODULES"] == install.UDF_MODULE


@pytest.mark.parametrize(
    ("said", "copies", "phrase"),
    [
        (SAID_BUSY, True, "quit Excel and try again"),  # xlwings' own error, exit code 0
        (SAID_OK, False, "未找到或不完整"),  # says it worked, left nothing
    ],
)
def test_install_fails_when_the_add_in_did_not_land(
    tmp_path: Path, said: str, copies: bool, phrase: str
) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    python = _fake_python(tmp_path, xlstart, said=said, copies=copies)
    settings = install.InstallSettings(platform="win32", home=tmp_path / "home", python=python)
    with pytest.raises(install.AddinInstallError) as caught:
        install.install(settings)
    assert phrase in str(caught.value) and "请先关闭所有 Excel 窗口再重试" in str(caught.value)
    assert not settings.config_file.exists()  # nothing half-done is left configured


def test_the_real_xlwings_step_without_excel_fails_with_its_reason(tmp_path: Path) -> None:
    settings = install.InstallSettings(platform="win32", home=tmp_path)
    with pytest.raises(install.AddinInstallError, match="only supported on Windows and macOS"):
        install._xlwings_addin_install(settings)
