"""The register as a person sees it: rendered by LibreOffice, risk colours follow the level.

LibreOffice opens the merged register, prints it to PDF and pdftoppm rasterizes the first
page (the 集团大客户名录 sheet). The fills of a 高, a 中 and a 低 customer must be drawn; after
HQ types a manual level into 人工风险等级 (no risk rerun, saved by another program) the row's
colour must follow, because the highlights are conditional formats, not static fills.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from builders import INFO_OK, card_row, contract_row, roster_row

from kam.register.columns import REG_ROSTER, REGISTER_FILENAME
from kam.register.merge import MergeSettings, merge
from kam.register.sheet_style import RISK_FILLS
from kam.template import Layout, write_submission
from kam.uscc import make_uscc

HIGH, MEDIUM, LOW = make_uscc(31), make_uscc(32), make_uscc(33)

pytestmark = pytest.mark.libreoffice


def rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)])


def to_pdf(path: Path, work: Path) -> Path:
    """The document printed to PDF by LibreOffice (in `work`, with a profile of its own)."""
    profile = (work / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return work / (path.stem + ".pdf")


def render_pages(xlsx: Path, work: Path, first: int = 1, last: int = 1) -> list[np.ndarray]:
    """Pixels (h, w, 3) of printed pages of a workbook, as LibreOffice draws them."""
    pdf = to_pdf(xlsx, work)
    subprocess.run(
        # 100 dpi: the register prints fit to one page wide, so its rows are small
        ["pdftoppm", "-r", "100", "-f", str(first), "-l", str(last), str(pdf), str(work / "page")],
        check=True,
        timeout=120,
    )
    pages = []
    for ppm in sorted(work.glob("page*.ppm")):
        parts = ppm.read_bytes().split(maxsplit=4)  # P6 width height maxval pixels
        width, height = int(parts[1]), int(parts[2])
        pixels = np.frombuffer(parts[4][: width * height * 3], dtype=np.uint8)
        pages.append(pixels.reshape(height, width, 3))
        ppm.unlink()
    return pages


def render_first_page(xlsx: Path, work: Path) -> np.ndarray:
    return render_pages(xlsx, work)[0]


def painted(page: np.ndarray, level: str) -> int:
    """How many pixels carry the fill colour of this risk level."""
    return int((np.abs(page.astype(int) - rgb(RISK_FILLS[level])).max(axis=2) <= 6).sum())


def merged_register(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    seen = {
        "reception": [
            {
                "date": dt.datetime(2026, 9, 1),
                "uscc": u,
                "visitor": "张总",
                "host": "王敏",
                "top_level": "否",
                "purpose": "回访",
            }
            for u in (HIGH, MEDIUM)
        ]
    }
    rows = {
        "roster": [
            roster_row(uscc=HIGH, name="风险示例甲有限公司", tier="集团级", strategic="是"),
            roster_row(uscc=MEDIUM, name="风险示例乙有限公司", tier="分公司级"),
            roster_row(uscc=LOW, name="风险示例丙有限公司"),
        ],
        "contracts": [
            contract_row(HIGH, "HT-H", pay_status="逾期", overdue_days=120),  # 高
            contract_row(MEDIUM, "HT-M", amount=12000.0, pay_status="逾期", overdue_days=45),  # 中
            contract_row(LOW, "HT-L"),  # no contact in 90 days: 低
        ],
        "cards": [card_row(uscc=u) for u in (HIGH, MEDIUM, LOW)],
        **seen,
    }
    write_submission(inbox / "华东.xlsx", INFO_OK, rows, layout=Layout(data_rows=10))
    register = tmp_path / REGISTER_FILENAME
    merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2026, 10, 15)))
    return register


def test_rendered_register_colours_follow_the_risk_level(tmp_path: Path) -> None:
    register = merged_register(tmp_path)
    before = render_first_page(register, tmp_path)
    assert (
        painted(before, "高") > 500 and painted(before, "中") > 500 and painted(before, "低") > 500
    )

    # HQ overrides the 高 customer's level by hand in another program; no risk rerun.
    wb = openpyxl.load_workbook(register)
    ws = wb[REG_ROSTER.sheet]
    header = [c.value for c in ws[1]]
    key_col = header.index(REG_ROSTER["uscc"].header) + 1
    manual_col = header.index(REG_ROSTER["manual_risk"].header) + 1
    (row,) = [r for r in range(2, ws.max_row + 1) if ws.cell(r, key_col).value == HIGH]
    ws.cell(row, manual_col).value = "低"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    after = render_first_page(edited, tmp_path)
    assert painted(after, "高") == 0
    assert painted(after, "中") > 500
    assert painted(after, "低") > painted(before, "低") * 1.5


CHART_SERIES = ("#4F81BD", "#C0504D", "#9BBB59")  # the charts' default series colours


def test_summary_charts_are_drawn(tmp_path: Path) -> None:
    register = merged_register(tmp_path)
    pages = render_pages(register, tmp_path, 1, 500)
    for colour in CHART_SERIES:
        drawn = sum(
            int((np.abs(p.astype(int) - rgb(colour)).max(axis=2) <= 6).sum()) for p in pages
        )
        assert drawn > 200, colour


def test_values_that_fired_a_rule_are_painted_and_explained(tmp_path: Path) -> None:
    import python_calamine

    from kam.forms import CONTRACTS
    from kam.register.columns import SUMMARY_SHEET
    from kam.register.summary_sheet import LEGEND

    register = merged_register(tmp_path)
    render_pages(register, tmp_path, 1, 1)  # leaves the PDF beside the register
    pdf = tmp_path / (register.stem + ".pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    header = CONTRACTS["overdue_days"].header  # printed on the page holding that column
    page = next(i for i, t in enumerate(text, start=1) if header in t)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-f", str(page), "-l", str(page), str(pdf), str(tmp_path / "c")],
        check=True,
        timeout=120,
    )
    (ppm,) = tmp_path.glob("c*.ppm")
    parts = ppm.read_bytes().split(maxsplit=4)
    width, height = int(parts[1]), int(parts[2])
    contracts = np.frombuffer(parts[4][: width * height * 3], np.uint8).reshape(height, width, 3)
    # Only the 逾期天数 cells are filled on this sheet: 120 days red, 45 days orange.
    assert painted(contracts, "高") > 30 and painted(contracts, "中") > 30
    assert painted(contracts, "低") == 0

    book = python_calamine.CalamineWorkbook.from_path(str(register))
    summary = " ".join(
        str(v) for row in book.get_sheet_by_name(SUMMARY_SHEET).to_python() for v in row
    )
    assert all(text in summary for _, text in LEGEND)
