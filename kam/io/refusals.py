"""Why a file is refused: the reason texts, and what a file that is no zip really is."""

from __future__ import annotations

import mmap
import re
from pathlib import Path

from kam.errors import UnreadableFileError

_RESAVE = "请在 Excel 中打开并另存为 .xlsx 后再提交"
_RESAVE_EN = "open it in Excel, save it as .xlsx and resubmit"
_SUBMIT = "请提交用 Excel 保存的 .xlsx 文件"
_SUBMIT_EN = "submit a .xlsx file saved by Excel"

REASONS: dict[str, tuple[str, str]] = {
    "cannot_open": (
        "无法打开文件（{cause}），请确认文件存在、当前账户有读取权限且没有被其他程序占用",
        "Cannot open the file ({error}); check that it exists, is readable and is not locked",
    ),
    "directory": (
        "这是一个文件夹，不是 Excel 工作簿；请提交其中填写好的 .xlsx 文件",
        "This is a folder, not a workbook; submit the filled-in .xlsx file inside it",
    ),
    "not_regular": (
        f"这不是普通文件（而是管道、设备或套接字等），无法作为工作簿读取；{_SUBMIT}",
        f"This is not a regular file (a pipe, device or socket); {_SUBMIT_EN}",
    ),
    "numbers": (
        "这是苹果 Numbers 表格，不是 Excel 工作簿；请在 Numbers 中“导出为 Excel”(.xlsx) 后再提交",
        "This is an Apple Numbers file; export it to Excel (.xlsx) in Numbers and resubmit",
    ),
    "biff_old": (
        f"这是 Excel 2.x–4.0 的旧格式 .xls（BIFF2–4），无法读取；{_RESAVE}",
        f"This is an Excel 2.x-4.0 .xls (BIFF2-4), which cannot be read; {_RESAVE_EN}",
    ),
    "too_many_sheets": (
        "工作簿有 {n} 个工作表，超过上限 {limit} 个；请只保留报送模板的工作表后另存为 .xlsx 再提交",
        "The workbook has {n} sheets, more than the limit of {limit}; keep only the template's "
        "sheets, save it as .xlsx and resubmit",
    ),
    "empty": (
        "文件是空的（0 字节），请重新保存后再提交",
        "The file is empty (0 bytes); save it again and resubmit",
    ),
    "too_large": (
        "文件过大（{mb} MB，上限 {limit} MB），请删除无关的工作表和图片后另存为 .xlsx 再提交",
        "The file is too large ({mb} MB, limit {limit} MB); remove unrelated sheets and "
        "pictures, save it as .xlsx and resubmit",
    ),
    "encrypted": (
        "文件已加密（设有打开密码），请在 Excel 中取消密码后另存为 .xlsx 再提交",
        "The file is encrypted (it has an open password); remove the password in Excel, "
        "save it as .xlsx and resubmit",
    ),
    "legacy_xls": (
        "这是旧版 Excel 97-2003 文件（.xls），请在 Excel 中另存为 .xlsx 再提交",
        "This is a legacy Excel 97-2003 file (.xls); save it as .xlsx in Excel and resubmit",
    ),
    "legacy_office": (
        f"这是旧版 Office 文档，不是 Excel 工作簿；{_SUBMIT}",
        f"This is a legacy Office document, not an Excel workbook; {_SUBMIT_EN}",
    ),
    "pdf": (f"这是 PDF 文件，不是 Excel 工作簿；{_SUBMIT}", f"This is a PDF; {_SUBMIT_EN}"),
    "html": (
        "这是网页（HTML）文件，只是扩展名像 Excel；请在 Excel 中打开后另存为 .xlsx 再提交",
        "This is a web page (HTML) with an Excel-like name; open it in Excel, save it as "
        ".xlsx and resubmit",
    ),
    "xml2003": (
        "这是 Excel 2003 XML 表格，请在 Excel 中另存为 .xlsx 再提交",
        "This is an Excel 2003 XML spreadsheet; save it as .xlsx in Excel and resubmit",
    ),
    "xml": (f"这是 XML 文件，不是 Excel 工作簿；{_SUBMIT}", f"This is an XML file; {_SUBMIT_EN}"),
    "csv": (
        "这是 CSV/文本文件，不是 Excel 工作簿；"
        "请在 Excel 中打开后另存为 .xlsx（Excel 工作簿）再提交",
        "This is a CSV/text file, not a workbook; open it in Excel, save it as .xlsx "
        "(Excel Workbook) and resubmit",
    ),
    "archive": (
        "这是压缩包（.zip/.rar/.7z 等），不是 Excel 工作簿；请解压后提交其中的 .xlsx 文件",
        "This is an archive (.zip/.rar/.7z), not a workbook; extract it and submit the "
        ".xlsx inside",
    ),
    "unknown": (
        f"无法识别的文件格式（不是 Excel 工作簿）；{_SUBMIT}",
        f"Unknown file format (not an Excel workbook); {_SUBMIT_EN}",
    ),
    "corrupt_zip": (
        "文件已损坏或不完整（可能下载或复制时中断），请重新用 Excel 保存为 .xlsx 后再提交",
        "The file is damaged or incomplete (an interrupted download or copy?); save it "
        "again as .xlsx in Excel and resubmit",
    ),
    "zip_method": (
        f"文件内部使用了不支持的压缩或加密方式；{_RESAVE}",
        f"The file uses an unsupported compression or encryption; {_RESAVE_EN}",
    ),
    "duplicate_entry": (
        f"文件结构异常（内部部件“{{name}}”重复），可能已损坏或被篡改；{_RESAVE}",
        f"Malformed file (the part '{{name}}' occurs twice): damaged or tampered; {_RESAVE_EN}",
    ),
    "too_many_entries": (
        f"文件结构异常（包含 {{n}} 个内部部件，上限 {{limit}}），疑似压缩炸弹；{_RESAVE}",
        f"Malformed file ({{n}} parts, limit {{limit}}), a likely zip bomb; {_RESAVE_EN}",
    ),
    "bomb_total": (
        "文件解压后总大小异常（{mb} MB，上限 {limit} MB），疑似压缩炸弹，"
        f"已拒绝读取；{_RESAVE}",
        f"The file would unpack to {{mb}} MB (limit {{limit}} MB), a likely zip bomb; {_RESAVE_EN}",
    ),
    "bomb_ratio": (
        "文件内部部件“{name}”的压缩比异常（{ratio:.0f} 倍），疑似压缩炸弹，"
        f"已拒绝读取；{_RESAVE}",
        f"The part '{{name}}' is compressed {{ratio:.0f}} times, a likely zip bomb; {_RESAVE_EN}",
    ),
    "xml_dtd": (
        f"文件含有不安全的 XML 声明（DOCTYPE/ENTITY，位于“{{name}}”），疑似恶意文件，"
        f"已拒绝读取；{_RESAVE}",
        f"The file declares a DOCTYPE/ENTITY in '{{name}}' (XML bomb or external entity); "
        f"{_RESAVE_EN}",
    ),
    "xml_bad": (
        f"文件内容已损坏（“{{name}}”不是有效的 XML）；{_RESAVE}",
        f"The file is damaged ('{{name}}' is not valid XML); {_RESAVE_EN}",
    ),
    "ods": (
        "这是 OpenDocument 表格（.ods），请在 Excel 或 WPS 中另存为 .xlsx 再提交",
        "This is an OpenDocument spreadsheet (.ods); save it as .xlsx and resubmit",
    ),
    "xlsb": (
        "这是 Excel 二进制工作簿（.xlsb），请在 Excel 中另存为 .xlsx 再提交",
        "This is a binary workbook (.xlsb); save it as .xlsx in Excel and resubmit",
    ),
    "docx": (f"这是 Word 文档，不是 Excel 工作簿；{_SUBMIT}", f"This is a Word file; {_SUBMIT_EN}"),
    "pptx": (
        f"这是 PowerPoint 演示文稿，不是 Excel 工作簿；{_SUBMIT}",
        f"This is a PowerPoint file; {_SUBMIT_EN}",
    ),
    "not_workbook": (
        "这是普通压缩包，里面没有 Excel 工作簿（缺少 xl/workbook.xml），"
        f"不是 .xlsx 文件；{_SUBMIT}",
        f"This zip holds no Excel workbook (no xl/workbook.xml); {_SUBMIT_EN}",
    ),
    "missing_sheet_part": (
        f"文件已损坏（工作表“{{sheet}}”的数据缺失）；{_RESAVE}",
        f"The file is damaged (the data of sheet '{{sheet}}' is missing); {_RESAVE_EN}",
    ),
    "no_sheets": (
        "工作簿中没有可读取的工作表（为空或只有图表）；请确认提交的是填写好的报送模板",
        "The workbook has no readable worksheet (empty or charts only); submit the filled-in "
        "template",
    ),
    "dimension": (
        "工作表“{sheet}”的使用范围过大（{ref}，{rows} 行 × {cols} 列），请删除多余的空行和空列"
        "后另存为 .xlsx 再提交",
        "Sheet '{sheet}' has an absurd used range ({ref}, {rows} rows x {cols} columns); "
        "delete the extra empty rows and columns, save it as .xlsx and resubmit",
    ),
    "parse_xml": (
        f"文件内容已损坏（工作表的 XML 无法解析）；{_RESAVE}",
        f"The file is damaged (XML error: {{error}}); {_RESAVE_EN}",
    ),
    "parse_failed": (
        "无法解析工作簿（文件格式不符合 Excel 工作簿的规范，可能已损坏或由其他软件生成）；"
        f"{_RESAVE}",
        f"Cannot parse the workbook ({{error}}); {_RESAVE_EN}",
    ),
}


def refuse(file: str, key: str, **params: object) -> UnreadableFileError:
    """The UnreadableFileError for REASONS[key], filled with params."""
    zh, en = REASONS[key]
    return UnreadableFileError(file, zh.format(**params), en.format(**params))


def ole_reason(path: Path) -> str:
    """REASONS key for an OLE2 compound file: encrypted OOXML, legacy .xls, or other."""
    names = _ole_streams(path)
    if names is None:
        names = _utf16_names(path)
    if "encryptedpackage" in names:
        return "encrypted"
    if names & {"workbook", "book"}:
        return "legacy_xls"
    return "legacy_office"


def _ole_streams(path: Path) -> set[str] | None:
    """Lower-cased stream names via olefile, or None if it is missing or gives up."""
    try:
        import olefile
    except ImportError:
        return None
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return {entry[-1].lower() for entry in ole.listdir(streams=True, storages=False)}
    except Exception:  # any defect in a hostile header: fall back to scanning bytes
        return None


def _utf16_names(path: Path) -> set[str]:
    """The stream names we care about, found as UTF-16 text anywhere in the file."""
    wanted = ("EncryptedPackage", "Workbook", "Book")
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # A directory entry stores the name then NULs: match the name as a whole word.
        return {w.lower() for w in wanted if data.find(w.encode("utf-16-le") + b"\0\0") >= 0}


# The BOF record that starts an Excel 2.x-4.0 worksheet or workbook (no OLE container).
_BIFF_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04")
_HTML = re.compile(r"<\s*(!doctype\s+html|html|head|body|table|meta)\b", re.IGNORECASE)


def text_reason(head: bytes) -> str:
    """REASONS key for a file that is neither a zip nor OLE2, from its first bytes."""
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:2] in _BIFF_BOF and head[3:4] == b"\x00" and head[2] in (4, 6, 8, 16):
        return "biff_old"
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh")):
        return "archive"
    text = _as_text(head)
    if text is None:
        return "unknown"
    start = text.lstrip("\ufeff \t\r\n")[:2048]
    if "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "xml2003"
    if _HTML.search(start[:1024]):
        return "html"
    if start.startswith("<?xml"):
        return "xml"
    return "csv"


def _as_text(head: bytes) -> str | None:
    """head decoded as text if it plausibly is text (UTF-8/16, GB18030), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    if b"\0" in head:
        return None
    trimmed = head[:-4] if len(head) > 4 else head  # the last character may be cut
    for encoding in ("utf-8", "gb18030"):
        try:
            text = trimmed.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.95 * len(text):
            return text
    return None
