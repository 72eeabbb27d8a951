"""Build kam.xlam on any OS, without Excel, from the text sources kept beside this file.

Method (see README for the limits and the Windows rebuild):
1. KamAddin.bas -> vbaProject.bin with the `ms-ovba` package (in a child process: it
   writes its parts into the current folder), every compressed part rewritten by our own
   compress() as ms-ovba 0.0.1's compressor corrupts some inputs. The project holds VBA
   source only, no compiled p-code, as MS-OVBA requires of writers, so Excel compiles the
   module when it first loads the add-in. Chinese text inside VBA string
   literals is rewritten as ChrW() calls first, so the module is plain ASCII and does not
   depend on the code page of the user's Windows.
2. xlsxwriter writes the workbook around it (ThisWorkbook / Sheet1 code names match the
   document modules ms-ovba adds), one hidden-by-Excel sheet saying what the file is.
3. The package is re-zipped as an add-in: the main part's content type becomes
   addin.macroEnabled and ribbon.xml is added as customUI/customUI14.xml.
The buttons call RunPython of the installed xlwings add-in through Application.Run, so
this project holds no copy of xlwings' VBA and never pins its DLL version.

Limits: the VBA is source only, unsigned (XLSTART, where install puts it, is a trusted
location by default); the references (stdole 2.0, Office 2.8) are resolved by GUID on the
user's machine; ms-ovba 0.0.1 is pinned because two of its internal helpers are used.
Checked here with oletools and by LibreOffice importing the project; not opened in Excel.
Rebuild on Windows with Excel if ever needed: in a new workbook import KamAddin.bas
(Alt+F11, 文件 → 导入文件), save it as kam.xlsm, then run
`python -c "from pathlib import Path; from addin.build import as_addin;
as_addin(Path('kam.xlsm'), Path('kam.xlam'))"` to add the ribbon and make it an add-in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

import xlsxwriter

from kam.errors import KamError

SOURCES = Path(__file__).resolve().parent
RIBBON = SOURCES / "ribbon.xml"
VBA_MODULE = SOURCES / "KamAddin.bas"
ADDIN_NAME = "kam.xlam"

CONTENT_TYPES = "[Content_Types].xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLAM_MAIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CUSTOM_UI_PART = "customUI/customUI14.xml"
# customUI14.xml (Office 2010+) uses the 2007 extensibility relationship type.
CUSTOM_UI_REL = (
    '<Relationship Id="kamCustomUI" '
    'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
    f'Target="{CUSTOM_UI_PART}"/>'
)

CHUNK = 4096
LITERAL_MAX = CHUNK * 8 // 9  # a chunk of n literals takes n + ceil(n / 8) bytes
PROJECT_ID = "{5A1D1C3E-6B2B-4E55-9C61-2D1B8E5F0A17}"  # fixed: the build is reproducible
# The document modules Excel expects for a one-sheet workbook (code names as xlsxwriter
# sets them) with their type GUIDs, and the two references every Excel VBA project has.
DOC_MODULES = (
    ("Sheet1", "00020820-0000-0000-C000-000000000046"),
    ("ThisWorkbook", "00020819-0000-0000-C000-000000000046"),
)
DOC_MODULE_SOURCE = (
    "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
    'Attribute VB_Name = "NAME"\r\nAttribute VB_GlobalNameSpace = False\r\n'
    "Attribute VB_Creatable = False\r\nAttribute VB_PredeclaredId = True\r\n"
    "Attribute VB_Exposed = True\r\n"
)
REFERENCES = {
    "stdole": (
        "00020430-0000-0000-C000-000000000046",
        "2.0",
        "C:\\Windows\\System32\\stdole2.tlb",
        "OLE Automation",
    ),
    # IRibbonControl, the type of every callback's argument, lives in the Office library.
    "Office": (
        "2DF8D04C-5BFA-101B-BDE5-00AA0044DE52",
        "2.8",
        "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL",
        "Microsoft Office 16.0 Object Library",
    ),
}

_LITERAL = re.compile(r'"(?:[^"\r\n]|"")*"')


class AddinBuildError(KamError, RuntimeError):
    """The add-in could not be built (a missing tool or a bad source file)."""


def _chrw(literal: str) -> str:
    """A VBA string literal with non-ASCII characters as ChrW() calls, ASCII runs kept."""
    body = literal[1:-1]
    if body.isascii():
        return literal
    parts: list[str] = []
    run = ""
    for ch in body:
        if ch.isascii():
            run += ch
            continue
        if run:
            parts.append(f'"{run}"')
            run = ""
        parts.append(f"ChrW(&H{ord(ch):04X})")
    if run:
        parts.append(f'"{run}"')
    return " & ".join(parts)


def ascii_vba(source: str, name: str = VBA_MODULE.name) -> str:
    """VBA source with every literal made ASCII; CRLF line ends as the VBA editor writes."""
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        outside = _LITERAL.sub("", line)
        if not outside.isascii():
            raise AddinBuildError(
                f"{name} 第 {number} 行：中文只能写在字符串常量里（注释请用英文），请修改后重新构建"
            )
        lines.append(_LITERAL.sub(lambda m: _chrw(m.group(0)), line))
    return "\r\n".join(lines) + "\r\n"


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 compression that never compresses: raw 4096-byte chunks, and a final
    chunk of literal tokens. Valid for every reader, and simple enough to trust."""
    if len(data) % CHUNK > LITERAL_MAX:
        # A final chunk this long does not fit as literals: pad it to a raw chunk with
        # spaces, which VBA reads as a blank last line.
        data += b" " * (CHUNK - len(data) % CHUNK)
    out = bytearray(b"\x01")  # signature byte of a CompressedContainer
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        if len(chunk) == CHUNK:
            out += (0x3000 | (CHUNK + 2 - 3)).to_bytes(2, "little") + chunk
            continue
        body = bytearray()
        for i in range(0, len(chunk), 8):
            body += b"\x00" + chunk[i : i + 8]  # flag byte 0: eight literal tokens
        out += (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + body
    return bytes(out)


def _doc_module_source(name: str) -> str:
    return DOC_MODULE_SOURCE.replace("NAME", name)


def write_vba_project(module: Path) -> None:
    """Write vbaProject.bin into the current folder (ms-ovba writes its parts there); run
    in a child process by vba_project() so the parent never changes folder."""
    from ms_ovba.Models.Entities.doc_module import DocModule
    from ms_ovba.Models.Entities.reference import Reference
    from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
    from ms_ovba.Models.Entities.std_module import StdModule
    from ms_ovba.Models.Fields.libid_reference import LibidReference
    from ms_ovba.vbaProject import VbaProject
    from ms_ovba.Views.dirStream import DirStream
    from ms_ovba.Views.project_ole_file import ProjectOleFile

    project = VbaProject()
    project.project_id = PROJECT_ID
    sources: list[Path] = []
    for name, guid in DOC_MODULES:
        path = Path(f"{name}.cls")
        path.write_bytes(_doc_module_source(name).encode("ascii"))
        doc = DocModule(name)
        doc.add_file(str(path))
        doc.add_guid(uuid.UUID(guid))
        doc.normalize_file()
        project.add_module(doc)
        sources.append(path)
    code = StdModule(module.stem)
    code.add_file(str(module))
    code.normalize_file()
    project.add_module(code)
    sources.append(module)
    for name, (guid, version, path, description) in REFERENCES.items():
        libid = LibidReference(uuid.UUID(guid), version, "0", path, description)
        project.add_reference(Reference(ReferenceRegistered(libid), name))
    root = ProjectOleFile._build_ole_directory(project)
    # ms-ovba 0.0.1's compressor corrupts some inputs (checked with oletools): write every
    # compressed part again with compress() before the container is assembled.
    for path in sources:
        Path(f"{path}.bin").write_bytes(compress(Path(f"{path}.new").read_bytes()))
    Path("dir.bin").write_bytes(compress(DirStream(project).to_bytes()))
    ProjectOleFile._write_ole_file(root)


def vba_project(work: Path, module: Path = VBA_MODULE) -> Path:
    """vbaProject.bin for `module`, built in `work` by a child process."""
    src = work / module.name
    src.write_bytes(ascii_vba(module.read_text(encoding="utf-8")).encode("ascii"))
    code = (
        "from pathlib import Path; import addin.build as b; "
        f"b.write_vba_project(Path({src.name!r}))"
    )
    # The child must import this very addin package, installed or not.
    paths = [str(SOURCES.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    out = work / "vbaProject.bin"
    if done.returncode != 0 or not out.is_file():
        last = (done.stderr.strip().splitlines() or ["无输出"])[-1]
        raise AddinBuildError(
            f"生成 VBA 工程失败（{last}）；请确认已安装 ms-ovba：pip install ms-ovba==0.0.1"
        )
    return out


def _workbook(path: Path, vba: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    wb.set_vba_name("ThisWorkbook")
    ws = wb.add_worksheet("kam")
    ws.set_vba_name("Sheet1")
    ws.write("A1", "大客户管理加载项（kam.xlam）：功能区按钮经 xlwings 运行 macros/ 的 Python")
    ws.write("A2", "由 kam addin build 生成，请勿手工修改；安装与排错见 kam addin doctor。")
    wb.add_vba_project(str(vba))
    wb.close()


def as_addin(xlsm: Path, out: Path) -> None:
    """Re-zip the macro workbook as an add-in carrying the ribbon."""
    ribbon = RIBBON.read_bytes()
    with zipfile.ZipFile(xlsm) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == CONTENT_TYPES:
                data = data.replace(XLSM_MAIN.encode(), XLAM_MAIN.encode())
            elif item.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>", CUSTOM_UI_REL.encode() + b"</Relationships>"
                )
            dst.writestr(item.filename, data)
        dst.writestr(CUSTOM_UI_PART, ribbon)


def build_addin(out_dir: Path) -> Path:
    """Build kam.xlam into out_dir and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ADDIN_NAME
    with tempfile.TemporaryDirectory(prefix="kam-addin-") as tmp:
        work = Path(tmp)
        xlsm = work / "kam.xlsm"
        _workbook(xlsm, vba_project(work))
        partial = work / ADDIN_NAME
        as_addin(xlsm, partial)
        try:
            partial.replace(target)
        except OSError:
            # A different filesystem (tmp vs out_dir) cannot rename: copy the bytes.
            try:
                target.write_bytes(partial.read_bytes())
            except OSError as exc:
                raise AddinBuildError(
                    f"无法写入 {target}：{exc.strerror or exc}。"
                    "如该加载项已在 Excel 中打开，请先关闭 Excel"
                ) from exc
    return target
