"""What an openpyxl load + save of a workbook loses, said in Chinese before it happens.

Every claim here was checked by experiment with openpyxl 3.1 (xlsxwriter-built files with
each feature, loaded and saved, parts compared; see tests/test_annotate.py). openpyxl keeps
cell values, styles, merged cells, legacy comments, data validation, conditional
formatting, tables, defined names, charts and pivot tables; it rewrites the package from
its own model, so parts it does not model are not written back.
"""

from __future__ import annotations

import importlib.util
import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree

from kam.errors import UnreadableFileError

XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
SHAPE_TAGS = frozenset({XDR + "sp", XDR + "grpSp", XDR + "cxnSp"})
PICTURE_TAG = XDR + "pic"
MAX_PART_BYTES = 20_000_000  # a drawing or sheet XML larger than this is not inspected

_CF = "Excel 2010 起的扩展条件格式（如数据条的新样式）"
# Worksheet <extLst> entries by their uri (the whole extLst is dropped).
EXT_NAMES: dict[str, str] = {
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "迷你图",
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": _CF,
    "{B025F937-C7B1-47D3-B67F-A62EFF666E3E}": _CF,
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "Excel 2010 起的扩展数据验证（如跨表下拉列表）",
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "切片器",
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "切片器",
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "日程表",
}
EXT_OTHER = "工作表扩展信息（Excel 2010 起的新功能设置）"
_URI_RE = re.compile(rb'<(?:\w+:)?ext\b[^>]*\buri="([^"]+)"')

# Parts openpyxl does not model, by path prefix.
PART_NAMES: tuple[tuple[str, str], ...] = (
    ("xl/slicers/", "切片器"),
    ("xl/slicerCaches/", "切片器"),
    ("xl/timelines/", "日程表"),
    ("xl/timelineCaches/", "日程表"),
    ("xl/threadedComments/", "新版批注（讨论串，旧式批注保留）"),
    ("xl/persons/", "新版批注（讨论串，旧式批注保留）"),
    ("customXml/", "自定义 XML 部件"),
    ("xl/connections.xml", "数据连接与查询"),
    ("xl/queryTables/", "数据连接与查询"),
    ("xl/featurePropertyBag/", "单元格复选框"),
    ("xl/model/", "数据模型（Power Pivot）"),
    ("customUI/", "自定义功能区（customUI）"),
)
# Kept only when the workbook is loaded with keep_vba (an .xlsm saved as .xlsm).
VBA_PART_NAMES: tuple[tuple[str, str], ...] = (
    ("xl/vbaProject.bin", "VBA 宏"),
    ("xl/activeX/", "ActiveX 控件"),
    ("xl/ctrlProps/", "表单控件（按钮、复选框、下拉框等）"),
)
_CONTROL_RE = re.compile(rb'ObjectType="(?!Note")')


def dropped_by_openpyxl(path: Path, keep_vba: bool | None = None) -> list[str]:
    """The features of this file an openpyxl load + save will lose, in Chinese, each once.

    `keep_vba` None means what OpenpyxlBook does: keep VBA for .xlsm/.xltm files.
    """
    path = Path(path)
    if keep_vba is None:
        keep_vba = path.suffix.lower() in {".xlsm", ".xltm"}
    try:
        with zipfile.ZipFile(path) as z:
            return _inspect(z, keep_vba)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UnreadableFileError(str(path), "不是有效的 Excel 文件（无法按 zip 打开）") from exc


def _inspect(z: zipfile.ZipFile, keep_vba: bool) -> list[str]:
    found: list[str] = []

    def add(what: str) -> None:
        if what not in found:
            found.append(what)

    pillow = importlib.util.find_spec("PIL") is not None  # openpyxl drops images without it
    for info in z.infolist():
        name = info.filename
        small = info.file_size <= MAX_PART_BYTES
        if re.fullmatch(r"xl/drawings/drawing\d+\.xml", name) and small:
            tags = _tags(z.read(name))
            if tags & SHAPE_TAGS:
                add("形状和文本框（图表保留）")
            if PICTURE_TAG in tags and not pillow:
                add("图片（本机未安装 Pillow，openpyxl 无法保留图片）")
        elif re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name) and small:
            data = z.read(name)
            if b"extLst" in data:
                for uri in _URI_RE.findall(data):
                    add(EXT_NAMES.get(uri.decode().upper(), EXT_OTHER))
        elif name.endswith(".vml") and not keep_vba and small and _CONTROL_RE.search(z.read(name)):
            add("表单控件（按钮、复选框、下拉框等）")
        for prefix, what in PART_NAMES:
            if name.startswith(prefix):
                add(what)
        if not keep_vba:
            for prefix, what in VBA_PART_NAMES:
                if name.startswith(prefix):
                    add(what)
    return found


def _tags(data: bytes) -> set[str]:
    """Every element tag of an XML part (none if it does not parse: openpyxl fails on it too)."""
    try:
        return {el.tag for el in ElementTree.fromstring(data).iter()}
    except (ElementTree.ParseError, ValueError):  # defusedxml refusals are ValueErrors
        return set()
