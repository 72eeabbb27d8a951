"""Annotated copies: marks on the cells, the 校验结果 sheet, re-runs, and what openpyxl drops."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import re
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from builders import card_row, contract_row, raw_book, roster_row, write_book
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from kam.annotate import annotate, annotate_file
from kam.errors import KamError, UsageError
from kam.findings import Finding, Report
from kam.forms import CARDS, CONTRACTS, ROSTER
from kam.io.book import MARK_COLORS, MARKS_SHEET, RESULTS_SHEET
from kam.io.dropped import dropped_by_openpyxl
from kam.io.openpyxl_book import OpenpyxlBook
from kam.io.raw import RawBook
from kam.messages import Severity
from kam.validate import ValidateSettings, validate_file

SETTINGS = ValidateSettings(today=dt.date(2026, 10, 15))
GREEN = "00B050"
RED = MARK_COLORS[Severity.ERROR]


def col(form_field_header: str, form=ROSTER) -> str:
    """The column letter of a header in the template layout (data fields from A)."""
    headers = [f.header for f in form.data_fields]
    return "ABCDEFGHIJKLMNOP"[headers.index(form_field_header)]


NATURE = f"{col(ROSTER['nature'].header)}2"  # 客户性质 of the first customer
PHONE = f"{col(ROSTER['phone'].header)}2"
NEEDS = f"{col(CARDS['needs'].header, CARDS)}2"
AMOUNT = f"{col(CONTRACTS['amount'].header, CONTRACTS)}2"


def mistakes() -> RawBook:
    """One customer with an enum error, a bad phone, a gap in its card, an amount as text."""
    return raw_book(
        rows={
            "roster": [roster_row(nature="私营企业", phone="1380013800")],
            "cards": [card_row(needs=None)],
            "contracts": [contract_row(amount="6,000")],
        },
        drop_sheets=("risk",),
    )


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = write_book(tmp_path / "华东分公司.xlsx", mistakes())
    wb = openpyxl.load_workbook(path)  # the user's own formatting, to be restored later
    ws = wb[ROSTER.sheet]
    ws[NATURE].fill = PatternFill(fill_type="solid", fgColor=GREEN)
    ws[PHONE].comment = Comment("请核实", "王敏")
    wb.save(path)
    return path


def keys(report: Report) -> set[tuple[str | None, str | None, str]]:
    return {(f.sheet, f.cell, f.rule) for f in report.findings}


def fill_rgb(cell) -> str | None:
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else None


def test_annotated_copy_marks_cells_and_lists_findings(src: Path, tmp_path: Path) -> None:
    before = src.read_bytes()
    result = annotate_file(src, tmp_path / "out.xlsx", SETTINGS)
    assert src.read_bytes() == before
    assert result.marked == 4 and result.cleared == 0 and result.dropped == []
    wb = openpyxl.load_workbook(result.out)
    roster = wb[ROSTER.sheet]
    assert fill_rgb(roster[NATURE]) == RED
    assert roster[NATURE].comment.author == "KAM"
    assert "客户性质" in roster[NATURE].comment.text and "私营企业" in roster[NATURE].comment.text
    assert fill_rgb(roster[PHONE]) == RED and "1380013800" in roster[PHONE].comment.text
    assert fill_rgb(wb[CARDS.sheet][NEEDS]) == MARK_COLORS[Severity.WARNING]
    assert fill_rgb(wb[CONTRACTS.sheet][AMOUNT]) == MARK_COLORS[Severity.INFO]
    assert roster["A2"].comment is None and roster["A2"].fill.fill_type is None
    assert wb[MARKS_SHEET].sheet_state == "veryHidden"

    res = wb[RESULTS_SHEET]
    assert wb.active.title == RESULTS_SHEET
    assert "错误 3 个，警告 1 个，提示 1 个" in res["A1"].value
    assert [c.value for c in res[2]] == ["工作表", "单元格", "规则", "级别", "说明", "规则编号"]
    rows = [[c.value for c in r] for r in res.iter_rows(min_row=3)]
    assert len(rows) == len(result.report.findings) == 5
    missing = next(r for r in range(3, res.max_row + 1) if res.cell(r, 6).value == "missing_sheet")
    assert [c.value for c in res[missing]][:4] == ["风险分析报告", None, "缺少工作表", "错误"]
    assert res.cell(missing, 2).hyperlink is None  # no such sheet to link to
    linked = {
        res.cell(r, 2).hyperlink.location: res.cell(r, 6).value
        for r in range(3, res.max_row + 1)
        if r != missing
    }
    assert linked == {
        f"'{ROSTER.sheet}'!{NATURE}": "enum",
        f"'{ROSTER.sheet}'!{PHONE}": "phone",
        f"'{CARDS.sheet}'!{NEEDS}": "completeness",
        f"'{CONTRACTS.sheet}'!{AMOUNT}": "normalized",
    }


def test_revalidating_the_annotated_copy_gives_the_same_findings(src: Path, tmp_path: Path) -> None:
    out = annotate_file(src, tmp_path / "out.xlsx", SETTINGS).out
    assert keys(validate_file(out, SETTINGS)) == keys(validate_file(src, SETTINGS))


def test_second_run_replaces_marks_and_restores_fixed_cells(src: Path, tmp_path: Path) -> None:
    first = annotate_file(src, tmp_path / "a.xlsx", SETTINGS).out
    again = annotate_file(first, tmp_path / "b.xlsx", SETTINGS)
    assert again.cleared == 4 and again.marked == 4
    wb = openpyxl.load_workbook(again.out)
    marks = list(wb[MARKS_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(marks) == 4  # not duplicated
    nature = next(m for m in marks if m[1] == NATURE)
    assert GREEN in nature[2]  # the user's fill, not the red of the first run
    assert wb[RESULTS_SHEET].max_row == 2 + 5
    assert wb.sheetnames.count(RESULTS_SHEET) == 1

    wb[ROSTER.sheet][NATURE].value = "民营企业"  # the user fixes one mistake
    wb.save(tmp_path / "fixed.xlsx")
    third = annotate_file(tmp_path / "fixed.xlsx", tmp_path / "c.xlsx", SETTINGS)
    assert third.marked == 3
    roster = openpyxl.load_workbook(third.out)[ROSTER.sheet]
    assert fill_rgb(roster[NATURE]) == GREEN and roster[NATURE].comment is None
    assert fill_rgb(roster[PHONE]) == RED

    book = OpenpyxlBook.open(third.out)
    assert book.clear_marks() == 3
    book.save_as(tmp_path / "clean.xlsx")
    clean = openpyxl.load_workbook(tmp_path / "clean.xlsx")
    assert RESULTS_SHEET not in clean.sheetnames and MARKS_SHEET not in clean.sheetnames
    phone = clean[ROSTER.sheet][PHONE]
    assert phone.fill.fill_type is None
    assert (phone.comment.text, phone.comment.author) == ("请核实", "王敏")


def test_never_overwrites_the_source(src: Path) -> None:
    before = src.read_bytes()
    for out in (src, src.parent / "." / src.name):
        with pytest.raises(KamError, match="不能覆盖原文件"):
            annotate_file(src, out, SETTINGS)
    book = OpenpyxlBook.open(src)
    with pytest.raises(UsageError):
        book.save_as(src)
    assert src.read_bytes() == before


def test_macro_workbook_keeps_vba_only_as_xlsm(tmp_path: Path) -> None:
    raw = raw_book(rows={"roster": [roster_row()], "cards": [card_row()]})
    src = write_book(tmp_path / "in.xlsm", raw, vba=b"not really vba")
    kept = annotate_file(src, tmp_path / "out.xlsm", SETTINGS)
    assert "VBA 宏" not in kept.dropped
    assert "xl/vbaProject.bin" in zipfile.ZipFile(kept.out).namelist()
    lost = annotate_file(src, tmp_path / "out.xlsx", SETTINGS)
    assert "VBA 宏" in lost.dropped and "表单控件（按钮、复选框、下拉框等）" in lost.dropped
    with zipfile.ZipFile(lost.out) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
    plain = write_book(tmp_path / "plain.xlsx", raw)
    with pytest.raises(UsageError, match=r"\.xlsx"):
        annotate_file(plain, tmp_path / "plain_out.xlsm", SETTINGS)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_dropped_lists_what_openpyxl_really_loses(tmp_path: Path) -> None:
    path = tmp_path / "features.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    for r in range(5):
        ws.write_row(r, 0, [r + 1, r * 2, 3, 4])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=数据!$A$1:$A$5"})
    ws.insert_chart("F2", chart)
    ws.insert_textbox("F20", "说明文字")
    ws.add_sparkline("E1", {"range": "数据!A1:D1"})
    wb.close()

    dropped = dropped_by_openpyxl(path)
    assert "形状和文本框（图表保留）" in dropped and "迷你图" in dropped
    assert not any("图表" in d and "保留" not in d for d in dropped)

    with pytest.warns(UserWarning):  # openpyxl says so too
        book = openpyxl.load_workbook(path)
    book.save(tmp_path / "resaved.xlsx")
    with zipfile.ZipFile(tmp_path / "resaved.xlsx") as z:
        names = z.namelist()
        drawings = [z.read(n) for n in names if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert any(n.startswith("xl/charts/") for n in names)  # the chart survives
    assert not any(b"<xdr:sp" in d for d in drawings)  # the text box does not
    assert b"extLst" not in sheet and b"sparkline" not in sheet


def test_dropped_is_empty_for_a_plain_file_and_images_depend_on_pillow(tmp_path: Path) -> None:
    plain = write_book(tmp_path / "plain.xlsx", raw_book())
    assert dropped_by_openpyxl(plain) == []
    pic = tmp_path / "pic.xlsx"
    wb = xlsxwriter.Workbook(str(pic))
    wb.add_worksheet("图").insert_image("B2", "logo.png", {"image_data": io.BytesIO(_png())})
    wb.close()
    has_pillow = importlib.util.find_spec("PIL") is not None
    openpyxl.load_workbook(pic).save(tmp_path / "pic2.xlsx")
    kept = any(
        n.startswith("xl/media/") for n in zipfile.ZipFile(tmp_path / "pic2.xlsx").namelist()
    )
    assert kept == has_pillow
    assert any(d.startswith("图片") for d in dropped_by_openpyxl(pic)) == (not kept)


fills = st.one_of(
    st.none(),
    st.sampled_from(["00B050", "FFFF00", "7030A0", RED]).map(
        lambda rgb: PatternFill(fill_type="solid", fgColor=rgb)
    ),
    st.just(PatternFill(fill_type="gray125")),
)
cells = st.sampled_from(["A1", "B2", "C3", "D1", "E5"])
marks = st.lists(st.tuples(cells, st.sampled_from(list(Severity))), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None)
@given(
    originals=st.dictionaries(cells, st.tuples(fills, st.booleans())),
    marks=marks,
)
def test_clear_restores_every_original_fill_and_comment(originals: dict, marks: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "表"
        for coord, (fill, commented) in originals.items():
            ws[coord] = coord
            if fill is not None:
                ws[coord].fill = fill
            if commented:
                ws[coord].comment = Comment(f"用户批注 {coord}", "用户")
        wb.save(path)
        expect = _looks(openpyxl.load_workbook(path)["表"])

        book = OpenpyxlBook.open(path)
        for coord, severity in marks:
            book.mark("表", coord, severity, f"{severity} at {coord}")
        book.save_as(Path(tmp) / "marked.xlsx")
        book.clear_marks()  # in memory, as the Excel button does
        assert _looks(book.wb["表"]) == expect
        marked = OpenpyxlBook.open(Path(tmp) / "marked.xlsx")
        last = {coord: severity for coord, severity in marks}
        for coord, severity in last.items():
            cell = marked.wb["表"][coord]
            assert fill_rgb(cell) == MARK_COLORS[severity] and cell.comment.author == "KAM"
        assert marked.clear_marks() == len(last)
        marked.save_as(Path(tmp) / "clean.xlsx")
        assert _looks(openpyxl.load_workbook(Path(tmp) / "clean.xlsx")["表"]) == expect


def _looks(ws) -> dict[str, tuple]:
    return {
        coord: (
            ws[coord].fill.fill_type,
            fill_rgb(ws[coord]),
            None
            if ws[coord].comment is None
            else (ws[coord].comment.text, ws[coord].comment.author),
        )
        for coord in ["A1", "B2", "C3", "D1", "E5"]
    }


def test_marks_on_one_cell_merge_and_file_level_findings_are_listed(tmp_path: Path) -> None:
    path = write_book(tmp_path / "in.xlsx", raw_book())
    book = OpenpyxlBook.open(path)
    report = Report(
        file=str(path),
        findings=[
            Finding(
                "normalized",
                str(path),
                ROSTER.sheet,
                2,
                "客户性质",
                "C2",
                {"value": "国企", "fixed": "国有企业", "why": "同义词"},
            ),
            Finding(
                "enum",
                str(path),
                ROSTER.sheet,
                2,
                "客户性质",
                "C2",
                {"value": "国企", "choices": "…"},
            ),
            Finding("missing_sheet", str(path), "风险分析报告"),
        ],
    )
    result = annotate(book, report)
    assert result.marked == 1
    cell = book.wb[ROSTER.sheet]["C2"]
    assert fill_rgb(cell) == RED  # the worst severity wins
    assert cell.comment.text.count("\n") == 1 and "【提示】" in cell.comment.text
    assert book.wb[RESULTS_SHEET].max_row == 2 + 3


def test_to_raw_reads_cached_values_and_formula_cells(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表")
    ws.write_row(0, 0, ["a", "b", "c"])
    ws.write(1, 0, 2)
    ws.write_formula(1, 1, "=A2*2", None, 4)
    ws.write_array_formula(1, 2, 1, 2, "{=SUM(A2:B2)}", None, 6)
    ws.write_string(3, 0, "=not a formula")  # text, flagged later by formula_in_data
    wb.close()
    raw = OpenpyxlBook.open(path).to_raw()
    sheet = raw.sheets["表"]
    assert sheet.rows == [
        ["a", "b", "c"],
        [2, 4, 6],
        [None, None, None],
        ["=not a formula", None, None],
    ]
    assert sheet.formulas == {(1, 1), (1, 2)}


def test_write_column_finds_the_header_under_a_title_or_adds_it(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = ROSTER.sheet
    ws.append(["华东分公司大客户名录"])  # a title row above the header
    ws.append([f.header for f in ROSTER.data_fields] + [" 计算 等级 "])
    ws.append(["甲"] * len(ROSTER.data_fields))
    ws.append(["乙"] * len(ROSTER.data_fields))
    wb.save(path)
    book = OpenpyxlBook.open(path)
    calc = len(ROSTER.data_fields) + 1
    book.write_column(ROSTER.sheet, ROSTER["calc_tier"].header, {3: "项目级", 4: "=危险"})
    book.write_column(ROSTER.sheet, ROSTER["tier_reason"].header, {3: "1 份合同 ≥ 5000 万元"})
    book.save_as(tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")[ROSTER.sheet]
    assert [ws.cell(r, calc).value for r in (2, 3, 4)] == [" 计算 等级 ", "项目级", "=危险"]
    assert ws.cell(4, calc).data_type == "s"  # written as text, never run as a formula
    assert [ws.cell(r, calc + 1).value for r in (1, 2, 3, 4)] == [
        None,
        ROSTER["tier_reason"].header,
        "1 份合同 ≥ 5000 万元",
        None,
    ]


def test_unreadable_source_gives_its_report_and_no_copy(tmp_path: Path) -> None:
    fake = tmp_path / "报送.xlsx"
    fake.write_text("客户名称,统一社会信用代码\n", encoding="utf-8")
    result = annotate_file(fake, tmp_path / "out.xlsx", SETTINGS)
    assert result.report.unreadable and result.out is None
    assert not (tmp_path / "out.xlsx").exists()
