"""The template in a real spreadsheet program: LibreOffice prints it and recalculates 参考等级.

How LibreOffice is made to recalculate (researched for this test):
- xlsxwriter never computes formula results; it writes a cached value ("" here) and sets
  fullCalcOnLoad, which Excel honours but LibreOffice ignores.
- LibreOffice's "Recalculation on File Load" setting for Excel 2007+ files
  (org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode) defaults to "never": cells
  with a cached value keep it (a stale cached value survives `--convert-to`), and only
  cells without one are computed.
- So each test gets a fresh user profile (-env:UserInstallation, which also avoids profile
  lock clashes) pre-seeded with OOXMLRecalcMode = 0 ("always"): every formula is
  recalculated on load, macro-free. The sample gives one row a stale cached value to
  prove that the recalculation really happened.
- The roster sheet is then exported with the CSV filter, whose 12th option token picks the
  sheet (1-based) to export.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from kam.forms import INFO, ROSTER, TABLE_FORMS, TIER, UNMET_TIER, YES_NO
from kam.io.files import load_raw
from kam.reader import read_book
from kam.rules import load_rules
from kam.template import INSTRUCTIONS_SHEET, TEMPLATE_FILENAME, Layout, write_submission
from kam.tier_report import tier_submission

pytestmark = pytest.mark.libreoffice

SOFFICE = shutil.which("soffice") or "soffice"
TIMEOUT = 300  # seconds; a cold LibreOffice start on a busy machine is slow

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

GROUP, BRANCH, PROJECT = TIER.values
YES, NO = YES_NO.values
AS_OF = dt.date(2026, 9, 30)  # last day of 2026Q3
START = dt.date(2021, 9, 30)  # as-of minus 5 years, both ends counted


def convert(src: Path, target: str, out_dir: Path, profile: Path) -> Path:
    """Run soffice --convert-to in a fresh, recalculate-always profile; returns the output."""
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(RECALC_ALWAYS, encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    outputs = sorted(out_dir.iterdir())
    assert done.returncode == 0 and outputs, (done.stdout, done.stderr)
    return outputs[0]


def test_blank_template_prints_to_pdf(tmp_path: Path) -> None:
    src = write_submission(tmp_path / TEMPLATE_FILENAME)
    pdf = convert(src, "pdf", tmp_path / "pdf", tmp_path / "profile")
    assert pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:")).split()[1])
    visible_sheets = 2 + len(TABLE_FORMS)  # _lists is hidden and not printed
    assert pages >= visible_sheets


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(body: str) -> str:
    """A GB 32100-2015 code: the 17-character body plus its check character."""
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def digit_twins() -> tuple[str, str]:
    """Two all-digit codes sharing their first 15 digits (Excel compares 15 digits only)."""
    codes = [uscc(f"9111010800000{n:04d}") for n in range(100, 200)]
    digits = [c for c in codes if c.isdigit()]
    for a in digits:
        for b in digits:
            if a != b and a[:15] == b[:15]:
                return a, b
    raise AssertionError("no twin codes found")


def d(y: int, m: int, day: int) -> dt.date:
    return dt.date(y, m, day)


def sample() -> tuple[list[dict[str, object]], list[dict[str, object]], dict[str, str]]:
    """Roster rows, contract rows and the expected 参考等级 per roster key (DOMAIN §3)."""
    twin_a, twin_b = digit_twins()
    lower = uscc("91350100MA2Y0K0B7")  # has letters: written lower-case in the ledger
    cases: list[tuple[str, str, list[tuple[object, object]], str]] = [
        # key body / code, strategic, contracts (signing date, amount), expected tier
        (uscc("91110000100000001"), YES, [], GROUP),  # strategic agreement alone
        (
            uscc("91110000100000002"),
            NO,
            [(d(2024, 1, 10), 20000.01), (d(2025, 2, 1), 20000.01)],
            GROUP,
        ),
        (uscc("91110000100000003"), NO, [(d(2024, 1, 10), 20000), (d(2025, 2, 1), 20000)], BRANCH),
        (
            uscc("91110000100000004"),
            NO,
            [(d(2024, 1, 10), 20000.01), (d(2025, 2, 1), 20000)],
            BRANCH,
        ),
        (uscc("91110000100000005"), NO, [(d(2023, 5, 5), 10000)], BRANCH),
        (uscc("91110000100000006"), NO, [(d(2023, 5, 5), 9999.99)], PROJECT),
        (uscc("91110000100000007"), NO, [(d(2023, 5, 5), 5000)], PROJECT),
        (uscc("91110000100000008"), NO, [(d(2023, 5, 5), 4999.99)], UNMET_TIER),
        # both ends of the window are inside
        (uscc("91110000100000009"), NO, [(START, 20000.01), (AS_OF, 20000.01)], GROUP),
        # one day before the window: only one big contract left
        (
            uscc("91110000100000010"),
            NO,
            [(START - dt.timedelta(1), 20000.01), (AS_OF, 20000.01)],
            BRANCH,
        ),
        # one day after the as-of date does not count
        (uscc("91110000100000011"), NO, [(AS_OF + dt.timedelta(1), 10000)], UNMET_TIER),
        (uscc("91110000100000012"), NO, [(START - dt.timedelta(1), 5000)], UNMET_TIER),
        (uscc("91110000100000013"), NO, [], UNMET_TIER),  # no contracts at all
        # a signing time on the last day still counts (inclusive by calendar day)
        (uscc("91110000100000014"), NO, [(dt.datetime(2026, 9, 30, 15, 30), 10000)], BRANCH),
        (lower, NO, [(d(2024, 6, 1), 10000)], BRANCH),  # ledger key written lower-case
        (twin_a, NO, [(d(2024, 1, 1), 20000.01), (d(2024, 2, 1), 20000.01)], GROUP),
        (twin_b, NO, [], UNMET_TIER),  # must not borrow its 15-digit twin's contracts
    ]
    roster: list[dict[str, object]] = []
    contracts: list[dict[str, object]] = []
    expected: dict[str, str] = {}
    for i, (key, strategic, deals, tier) in enumerate(cases):
        roster.append(
            {"name": f"客户{i:02d}", "uscc": key, "nature": "国有企业", "strategic": strategic}
        )
        expected[key] = tier
        for j, (signed, amount) in enumerate(deals):
            ledger_key = key.lower() if key == lower else key
            contracts.append(
                {
                    "uscc": ledger_key,
                    "contract_no": f"HT-{i:02d}-{j}",
                    "signed_on": signed,
                    "amount": amount,
                }
            )
        if i == 6:
            roster.append({})  # an empty row between customers shows nothing
    roster[1]["ref_tier"] = "陈旧值"  # a stale cached result the recalculation must replace
    return roster, contracts, expected


SHEETS = [INSTRUCTIONS_SHEET, INFO.sheet, *(f.sheet for f in TABLE_FORMS)]
# CSV export options: comma, double quote, UTF-8 (76), from line 1, ..., sheet number last.
ROSTER_CSV = (
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,"
    f"{SHEETS.index(ROSTER.sheet) + 1}"
)


def roster_tiers(csv_path: Path) -> dict[str, str]:
    """Key -> 参考等级 from the exported roster CSV (header found by its text)."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        grid = list(csv.reader(fh))
    header_at = next(i for i, row in enumerate(grid) if ROSTER["ref_tier"].header in row)
    header = grid[header_at]
    key_col = header.index(ROSTER["uscc"].header)
    tier_col = header.index(ROSTER["ref_tier"].header)
    out = {}
    for row in grid[header_at + 1 :]:
        if len(row) > tier_col and (row[key_col] or row[tier_col]):
            out[row[key_col]] = row[tier_col]
    return out


@pytest.mark.parametrize(
    "layout",
    [Layout(), Layout(title_rows=1, data_rows=60), Layout(data_rows=60, spliced=True)],
    ids=["template", "title-row", "spliced-shared-formula"],
)
def test_libreoffice_recalculates_reference_tier(tmp_path: Path, layout: Layout) -> None:
    roster, contracts, expected = sample()
    info = {"unit": "华东分公司", "quarter": "2026Q3", "submitted_on": dt.date(2026, 10, 8)}
    src = write_submission(
        tmp_path / "sample.xlsx", info, {"roster": roster, "contracts": contracts}, layout=layout
    )
    got = roster_tiers(convert(src, ROSTER_CSV, tmp_path / "csv", tmp_path / "profile"))
    # every customer as expected, the stale cached value replaced, the empty row left empty
    assert got == expected
    # and the formula agrees with the tier engine reading the same file (kam tier's path)
    report = tier_submission(read_book(load_raw(src)), None, load_rules())
    assert report.as_of == AS_OF
    assert dict(zip(report.customers["key"], report.customers["computed"], strict=True)) == got


def test_quarter_decides_the_window(tmp_path: Path) -> None:
    """The as-of date follows 报送季度: a Q1 quarter ends on 31 March, so a contract signed
    on 1 April of that year is outside, and one signed five years earlier on 31 March is in."""
    key = uscc("91110000100000099")
    roster = [{"name": "客户", "uscc": key, "strategic": NO}]
    contracts = [
        {"uscc": key, "signed_on": d(2021, 3, 31), "amount": 20000.01},
        {"uscc": key, "signed_on": d(2026, 4, 1), "amount": 20000.01},
    ]
    other = {"uscc": key, "signed_on": d(2021, 3, 30), "amount": 9000}
    src = write_submission(
        tmp_path / "q1.xlsx",
        {"quarter": "2026q1"},  # lower-case q is tolerated by the formula
        {"roster": roster, "contracts": [*contracts, other]},
        layout=Layout(data_rows=20),
    )
    got = roster_tiers(convert(src, ROSTER_CSV, tmp_path / "csv", tmp_path / "profile"))
    assert got == {key: BRANCH}
