"""Print-ready workbooks: page setup is written; LibreOffice prints few pages, nothing clipped."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from builders import DEFAULT_ROWS, INFO_OK

from kam.forms import TABLE_FORMS
from kam.register.columns import REG_ROSTER, REGISTER_FILENAME
from kam.register.merge import MergeSettings, merge
from kam.register.summary_sheet import ALERT_TITLE, LEGEND, NO_ALERT
from kam.rules import load_rules
from kam.template import INSTRUCTIONS_SHEET, TEMPLATE_FILENAME, write_submission
from kam.template_instructions import instructions


def to_pdf(xlsx: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", "pdf", "--outdir", str(work), str(xlsx)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return work / (xlsx.stem + ".pdf")


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def page_texts(pdf: Path) -> list[str]:
    """Each page's text with all whitespace removed (wrapped lines join up again)."""
    out = []
    for p in range(1, pages(pdf) + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        out.append(re.sub(r"\s+", "", text))
    return out


def test_template_sheets_have_print_areas_and_page_setup(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_submission(tmp_path / TEMPLATE_FILENAME))
    for form in TABLE_FORMS:
        ws = wb[form.sheet]
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.page_setup.fitToWidth in (None, 1)  # absent means 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        # the header and 20 empty rows, not the 5000 rows that carry validation
        assert ws.print_area.endswith("$21"), ws.print_area
    notes = wb[INSTRUCTIONS_SHEET]
    assert notes.page_setup.orientation == "portrait"
    wrapped = [r for r in range(1, notes.max_row + 1) if notes.row_dimensions[r].height]
    assert wrapped  # long rows are given the height their wrapped lines need


@pytest.mark.libreoffice
def test_blank_template_prints_in_a_few_readable_pages(tmp_path: Path) -> None:
    pdf = to_pdf(write_submission(tmp_path / TEMPLATE_FILENAME), tmp_path / "pdf")
    n = pages(pdf)
    assert 2 + len(TABLE_FORMS) <= n <= 12, n  # it printed 68 pages before
    printed = "".join(page_texts(pdf)[:3])
    for _, text in instructions(load_rules()):  # no instruction cut off at the page edge
        assert re.sub(r"\s+", "", text) in printed, text


def register(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_submission(inbox / "华东.xlsx", INFO_OK, DEFAULT_ROWS)
    target = tmp_path / REGISTER_FILENAME
    merge(MergeSettings(inbox=inbox, register=target, rules=load_rules()))
    return target


def test_register_sheets_have_page_setup(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(register(tmp_path))
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert REG_ROSTER.sheet in [ws.title for ws in visible]
    for ws in visible:
        setup = ws.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9)
        assert setup.fitToWidth in (None, 1)  # absent means 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        if ws.title != "汇总":  # 趋势: a title row above its header row
            assert ws.print_title_rows == ("$1:$2" if ws.title == "趋势" else "$1:$1"), ws.title


@pytest.mark.libreoffice
def test_register_summary_prints_on_one_page_with_titles_and_legend_whole(tmp_path: Path) -> None:
    target = register(tmp_path)
    texts = page_texts(to_pdf(target, tmp_path / "pdf"))
    summary = [t for t in texts if NO_ALERT in t or ALERT_TITLE in t]
    assert len(summary) == 1  # 汇总 is one page
    for _, text in LEGEND:
        assert re.sub(r"\s+", "", text) in summary[0], text
    assert "说明（填写“人工风险等级”后按人工等级着色）" in summary[0]
