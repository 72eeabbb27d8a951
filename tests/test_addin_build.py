"""kam.xlam built from xlwings' template: the exact difference from it, the VBA wiring, the
ribbon, the compound-file rewrite, and the buttons' macros headless."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import olefile
import openpyxl
import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from addin import build, cfb, ovba
from kam.forms import ROSTER
from kam.io.openpyxl_book import OpenpyxlBook
from kam.template import TEMPLATE_FILENAME
from macros import new_template, risk_marks

UI = "{http://schemas.microsoft.com/office/2006/01/customui}"
BUTTONS = ["校验本簿", "清除标记", "计算等级", "合并报送", "风险标记", "新建模板"]
JOBS = ["validate", "clear_marks", "compute_tiers", "merge", "risk_marks", "new_template"]
UDFS = {"KA_TIER", "KA_TIER_REASON", "KA_TIERS", "KA_USCC_OK"}
CALLBACK = re.compile(
    r"^Public Sub (\w+)\(control As IRibbonControl\)\r?\n(.*?)^End Sub", re.M | re.S
)
WRAPPER = re.compile(
    r'^Function (\w+)\(.*?\)\r?\n.*?XLPy\.CallUDF\("([\w.]+)", "(\w+)", .*?ActiveWorkbook, '
    r"Application\.Caller\)",
    re.M | re.S,
)


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build.build_addin(tmp_path_factory.mktemp("addin") / "out")


@dataclass
class Project:
    """A VBA project taken apart: streams, dir records, module sources, PROJECT lines."""

    streams: dict[str, bytes]
    records: list[ovba.Record]
    modules: list[ovba.ModuleEntry]
    sources: dict[str, bytes]
    project: list[str]
    wm: list[tuple[str, str]]


def project(xlam_or_template: Path) -> Project:
    with zipfile.ZipFile(xlam_or_template) as z:
        data = z.read(build.VBA_PART)
    with olefile.OleFileIO(data) as ole:
        streams = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    recs = ovba.records(ovba.decompress(streams["VBA/dir"]))
    mods = ovba.modules(recs)
    sources = {m.name: ovba.module_source(streams[f"VBA/{m.stream}"], m.offset) for m in mods}
    wm_raw = streams["PROJECTwm"]
    assert wm_raw.endswith(b"\0\0")
    wm = []
    pos = 0
    while wm_raw[pos : pos + 2] != b"\0\0":  # MBCS name NUL, UTF-16 name NUL NUL, ...
        end = wm_raw.index(b"\0", pos)
        name = wm_raw[pos:end].decode("cp1252")
        uend = end + 1
        while wm_raw[uend : uend + 2] != b"\0\0":
            uend += 2
        wm.append((name, wm_raw[end + 1 : uend].decode("utf-16-le")))
        pos = uend + 2
    return Project(
        streams, recs, mods, sources, streams["PROJECT"].decode("cp1252").split("\r\n"), wm
    )


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def buttons(path: Path) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(parts(path)[build.CUSTOM_UI_PART])
    (tab,) = root.iter(f"{UI}tab")
    assert (tab.get("id"), tab.get("label")) == ("kamTab", "大客户管理")
    return list(tab.iter(f"{UI}button"))


def test_only_the_documented_parts_differ_from_the_template_xlwings_ships(xlam: Path) -> None:
    template, built = parts(build.template_path()), parts(xlam)
    assert list(built) == list(template)  # same parts, same order
    changed = {name for name in template if template[name] != built[name]}
    assert changed == {
        build.VBA_PART,
        build.CUSTOM_UI_PART,
        build.WORKBOOK_PART,  # the config sheet's name, nothing else
        build.CONF_SHEET_PART,
        build.STRINGS_PART,  # the config sheet's text
    }
    old = template[build.WORKBOOK_PART].replace(b'name="_myaddin.conf"', b'name="kam.conf"')
    assert built[build.WORKBOOK_PART] == old


def test_the_vba_project_differs_only_in_the_ribbon_module_and_project_name(xlam: Path) -> None:
    before, after = project(build.template_path()), project(xlam)
    assert set(after.streams) == set(before.streams)
    changed = {n for n in before.streams if before.streams[n] != after.streams[n]}
    assert changed == {"VBA/dir", "VBA/RibbonMyAddin", "VBA/xlwings"}
    # dir: the one MODULEOFFSET of the replaced module, set to 0 (no p-code cache).
    diff = [(a, b) for a, b in zip(before.records, after.records, strict=True) if a != b]
    assert [(a.id, b.id, b.data) for a, b in diff] == [(0x31, 0x31, b"\0\0\0\0")]
    assert [m.name for m in after.modules] == [m.name for m in before.modules]
    assert {m.name: m.offset for m in after.modules}["RibbonMyAddin"] == 0
    # Every other module keeps its source byte for byte.
    for name in before.sources:
        if name not in ("RibbonMyAddin", "xlwings"):
            assert after.sources[name] == before.sources[name], name
    # xlwings: only the PROJECT_NAME line, as xlwings' docs say to rename a custom add-in.
    assert after.sources["xlwings"] == before.sources["xlwings"].replace(
        build.TEMPLATE_PROJECT_LINE, build.PROJECT_LINE
    )
    assert after.sources["RibbonMyAddin"] == build.ribbon_module_source()


def test_dir_project_and_projectwm_still_agree(xlam: Path) -> None:
    p = project(xlam)
    assert ovba.declared_module_count(p.records) == len(p.modules) == 5
    listed = [
        line.split("=", 1)[1].split("/")[0]
        for line in p.project
        if line.split("=", 1)[0] in ("Module", "Document", "Class")
    ]
    assert sorted(listed) == sorted(m.name for m in p.modules)
    assert [name for name, _ in p.wm] == [m.name for m in p.modules]
    assert all(name == wide for name, wide in p.wm)
    for m in p.modules:
        source = p.sources[m.name].decode("cp1252")
        assert source.startswith(f'Attribute VB_Name = "{m.name}"'), m.name
    # The template's _VBA_PROJECT carries no p-code cache and version 0xFFFF: Excel
    # compiles the project from source, the replaced module included.
    assert p.streams["VBA/_VBA_PROJECT"][:4] == b"\xcc\x61\xff\xff"
    assert len(p.streams["VBA/_VBA_PROJECT"]) == 7
    # oletools reads it as a VBA project with the same five modules.
    parser = VBA_Parser(str(xlam))
    try:
        names = {name for _, _, name, _ in parser.extract_all_macros()}
    finally:
        parser.close()
    assert names == {f"{m.name}.{ext}" for m in p.modules for ext in ("bas", "cls")} & names
    assert len(names) == 5


def test_the_config_sheet_is_kam_conf_with_our_values_only(xlam: Path) -> None:
    # openpyxl refuses an add-in's content type: read the two parts directly.
    p = parts(xlam)
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    sheets = ElementTree.fromstring(p[build.WORKBOOK_PART]).iter(f"{main}sheet")
    assert [s.get("name") for s in sheets] == [build.CONF_SHEET]
    strings = [t.text for t in ElementTree.fromstring(p[build.STRINGS_PART]).iter(f"{main}t")]
    rows = []
    for row in ElementTree.fromstring(p[build.CONF_SHEET_PART]).iter(f"{main}row"):
        cells = [(c.get("t"), c.find(f"{main}v").text) for c in row.iter(f"{main}c")]
        rows.append(tuple(strings[int(v)] if t == "s" else v == "1" for t, v in cells))
    assert rows == [tuple(r) for r in build.CONF_ROWS]
    keys = {k.upper() for k, _ in rows}
    # Keys read from the per-user kam.conf must not sit here: a key in the sheet wins
    # even when blank.
    assert not keys & {"INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH", "CONDA PATH"}
    assert dict(rows)["ADD_WORKBOOK_TO_PYTHONPATH"] is False
    assert dict(rows)["UDF Modules"] == "addin.udfs"


def test_the_tab_has_six_labelled_buttons_with_icons_and_tips(xlam: Path) -> None:
    found = buttons(xlam)
    assert [b.get("label") for b in found] == BUTTONS
    for b in found:
        assert b.get("imageMso") and b.get("onAction", "").startswith("RibbonMyAddin.")
        assert b.get("screentip") == b.get("label")
        assert re.search(r"[\u4e00-\u9fff]{6}", b.get("supertip", ""))
    root = ElementTree.fromstring(parts(xlam)[build.CUSTOM_UI_PART])
    assert root.get("onLoad") == "RibbonMyAddin.KamRibbonLoaded"


def test_every_callback_runs_its_job_through_kamrun_and_the_job_imports(xlam: Path) -> None:
    code = project(xlam).sources["RibbonMyAddin"].decode("ascii")
    callbacks = dict(CALLBACK.findall(code))
    actions = [b.get("onAction").split(".", 1)[1] for b in buttons(xlam)]
    assert sorted(actions) == sorted(callbacks)
    jobs = [re.fullmatch(r'\s*KamRun "(\w+)"\s*', callbacks[a]).group(1) for a in actions]
    assert jobs == JOBS
    for job in jobs:
        module = importlib.import_module(f"macros.{job}")
        assert callable(module.main) and callable(module.run)
        assert f'Case "{job}": KamBusy = ChrW(' in code
    assert "Public Sub KamRun(ByVal job As String, Optional ByVal folder As String" in code
    assert 'RunPython "import macros." & job & "; macros." & job & ".main(" & arg & ")"' in code
    assert re.search(r"Public Sub KamRibbonLoaded\(ribbon As IRibbonUI\)", code)


def test_the_four_wrappers_are_xlwings_own_and_name_functions_that_exist(xlam: Path) -> None:
    code = project(xlam).sources["RibbonMyAddin"].decode("ascii")
    wrappers = WRAPPER.findall(code)
    assert {w[0] for w in wrappers} == UDFS
    udfs = importlib.import_module("addin.udfs")
    for name, module, called in wrappers:
        assert module == "addin.udfs" and called == name and callable(getattr(udfs, name))
    assert '#Const App = "Microsoft Excel"' in code  # the wrappers branch on it
    # Their Chinese help, registered when the ribbon loads: 按合同金额 as ChrW().
    assert code.count("Application.MacroOptions Macro:=") == 4
    assert "ChrW(&H6309) & ChrW(&H5408) & ChrW(&H540C) & ChrW(&H91D1) & ChrW(&H989D)" in code


def test_the_wrappers_match_what_xlwings_import_functions_writes() -> None:
    # The same generator on this machine, run again: the build adds nothing of its own.
    done = subprocess.run(
        [sys.executable, str(build.WRAPPERS_STEP), "addin.udfs", "kam.xlam"],
        capture_output=True,
        text=True,
        check=True,
    )
    generated = json.loads(done.stdout)
    assert build.ascii_vba(generated["vba"]) in build.ribbon_module_source().decode("ascii")
    assert {f["name"] for f in generated["functions"]} == UDFS
    assert all(f["category"] == "大客户管理" for f in generated["functions"])
    sig = re.search(r"^Function KA_TIERS\((.*)\)$", generated["vba"], re.M)
    assert sig and sig.group(1) == (
        "keys, contract_keys, amounts, sign_dates, strategic, Optional as_of"
    )


def test_vba_source_is_ascii_with_chinese_as_chrw_and_kamversion_is_the_package(
    xlam: Path,
) -> None:
    code = project(xlam).sources["RibbonMyAddin"].decode("ascii")
    assert "ChrW(&H5927) & ChrW(&H5BA2) & ChrW(&H6237) & ChrW(&H7BA1) & ChrW(&H7406)" in code
    assert f'KamVersion = "{build.kam_version()}"' in code
    # 请先点“启用编辑”: the Protected View message.
    assert "ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H70B9) & ChrW(&H201C) & ChrW(&H542F)" in code
    assert max(len(line) for line in code.splitlines()) <= build.VBA_LINE_MAX


def test_the_build_fails_clearly_when_xlwings_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(build.AddinBuildError, match="pip install"):
        build.template_path()


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
        assert decorators[0] == "xw.func(category=CATEGORY)"
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
    with pytest.raises(build.AddinBuildError, match=r"第 1 行.*1023"):
        build.ascii_vba('x = "' + "中" * 90 + '"\n')


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=9000),
        st.integers(3600, 4200).map(lambda n: bytes(i % 251 for i in range(n))),
    )
)
def test_compress_round_trips_through_oletools(data: bytes) -> None:
    packed = ovba.compress(data)
    back = decompress_stream(bytearray(packed))
    # Padding (spaces) may follow the data, never anything else.
    assert back[: len(data)] == data and set(back[len(data) :]) <= {0x20}
    assert len(back) - len(data) < ovba.CHUNK


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["PROJECT", "PROJECTwm", "VBA/dir", "VBA/Sheet2", "VBA/xlwings"]),
        st.binary(max_size=9000),
        max_size=3,
    )
)
def test_the_compound_file_rewrite_keeps_every_other_stream(
    tmp_path_factory: pytest.TempPathFactory, replace: dict[str, bytes]
) -> None:
    source = tmp_path_factory.mktemp("cfb") / "vbaProject.bin"
    source.write_bytes(parts(build.template_path())[build.VBA_PART])
    with olefile.OleFileIO(str(source)) as ole:
        before = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    with olefile.OleFileIO(cfb.rewrite(source, replace)) as ole:
        after = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
        assert ole.listdir(streams=False, storages=True) == [["VBA"]]
    assert after == {**before, **replace}


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
