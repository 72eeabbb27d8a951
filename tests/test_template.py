"""The submission template: checked-in copy current, structure from kam.forms, typed data."""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from builders import INFO_OK, card_row, contract_row, roster_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.worksheet import Worksheet
from xlsxwriter.worksheet import Worksheet as XlsxSheet

from kam import template_formulas as tf
from kam.errors import UsageError
from kam.findings import column_letter
from kam.forms import (
    ALL_CHOICES,
    CONTRACTS,
    FORMS,
    INFO,
    ROSTER,
    TABLE_FORMS,
    TEMPLATE_VERSION,
    Form,
    Kind,
)
from kam.injection import starts_formula
from kam.rules import load_rules
from kam.template import (
    COMPUTED_NOTE,
    DATA_ROWS,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    TEMPLATE_FILENAME,
    Layout,
    _RosterSheet,
    write_submission,
)
from kam.template_formulas import AS_OF_NAME, CONTRACT_RANGE_NAMES, WINDOW_START_NAME
from workbook_templates.generate import CHECKED_IN, generate

LAST = DATA_ROWS + 1  # last validated sheet row (header in row 1)
EXCEL_EPOCH = dt.date(1899, 12, 30)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # generate() writes twice and refuses to continue if the two files differ
    return generate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def book(template: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(template)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_checked_in_template_is_current(template: Path) -> None:
    # Compared part by part (not zip bytes): zlib builds may compress the same XML differently.
    assert template.name == TEMPLATE_FILENAME
    assert parts(CHECKED_IN) == parts(template), (
        "checked-in template is stale: run python -m workbook_templates.generate"
    )


def test_same_input_same_bytes(tmp_path: Path) -> None:
    # the full template is also generated twice and compared by generate() in the fixture
    rows = {"roster": [{"name": "客户甲", "listed_on": dt.date(2024, 1, 2)}]}
    a = write_submission(
        tmp_path / "a.xlsx", {"quarter": "2026Q1"}, rows, layout=Layout(data_rows=9)
    )
    b = write_submission(
        tmp_path / "b.xlsx", {"quarter": "2026Q1"}, rows, layout=Layout(data_rows=9)
    )
    assert a.read_bytes() == b.read_bytes()


def test_sheets_in_order(book: openpyxl.Workbook) -> None:
    expected = [INSTRUCTIONS_SHEET, INFO.sheet, *(f.sheet for f in TABLE_FORMS), LISTS_SHEET]
    assert book.sheetnames == expected
    assert book[LISTS_SHEET].sheet_state == "hidden"
    assert all(book[s].sheet_state == "visible" for s in expected[:-1])


def column_dim(ws: Worksheet, col: int) -> ColumnDimension:
    """The <col> entry covering a 1-based column (xlsxwriter groups equal neighbours)."""
    return next(d for d in ws.column_dimensions.values() if d.min <= col <= d.max)


def header_row(ws: Worksheet, form: Form, row: int = 1) -> list[object]:
    return [ws.cell(row=row, column=c + 1).value for c in range(len(form.fields))]


@pytest.mark.parametrize("form", TABLE_FORMS, ids=lambda f: f.id)
def test_table_sheet_layout(book: openpyxl.Workbook, form: Form) -> None:
    ws = book[form.sheet]
    assert header_row(ws, form) == list(form.headers)
    assert ws.cell(row=1, column=len(form.fields) + 1).value is None
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{column_letter(len(form.fields) - 1)}{LAST}"
    for c, field in enumerate(form.fields):
        cell = ws.cell(row=1, column=c + 1)
        dim = column_dim(ws, c + 1)
        assert abs(dim.width - field.width) < 1, field.header
        assert cell.font.b
        note = cell.comment.text
        if field.computed:
            assert note.startswith(COMPUTED_NOTE)
            assert cell.fill.fgColor.rgb != ws.cell(row=1, column=1).fill.fgColor.rgb
        elif field.required:
            assert cell.font.color.rgb == "FFC00000" and note.startswith("必填")
        else:
            assert cell.font.color is None or cell.font.color.rgb != "FFC00000"
            assert not note.startswith("必填")
        if field.kind in (Kind.USCC, Kind.PHONE) or field is CONTRACTS["contract_no"]:
            assert dim.number_format == "@", field.header  # keeps leading zeros, 18 digits


def validations(ws: Worksheet) -> dict[str, object]:
    """First column letter of each validation range -> the validation."""
    return {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv
        for dv in ws.data_validations.dataValidation
    }


@pytest.mark.parametrize("form", TABLE_FORMS, ids=lambda f: f.id)
def test_validations(book: openpyxl.Workbook, form: Form) -> None:
    by_col = validations(book[form.sheet])
    for c, field in enumerate(form.fields):
        dv = by_col.pop(column_letter(c), None)
        if field.computed or (
            field.kind in (Kind.TEXT, Kind.PHONE, Kind.EMAIL) and not field.max_len
        ):
            assert dv is None, field.header
            continue
        assert dv is not None, field.header
        assert str(dv.sqref) == f"{column_letter(c)}2:{column_letter(c)}{LAST}"
        assert dv.showErrorMessage and dv.showInputMessage
        assert dv.promptTitle == field.header and dv.prompt and dv.error and dv.errorTitle
        assert field.header in dv.error
        assert dv.prompt.startswith("必填") == field.required
        if field.kind is Kind.ENUM:
            assert (dv.type, dv.formula1) == ("list", field.choices.name)
        elif field.kind is Kind.DATE:
            low, high = (
                dt.date.fromordinal(EXCEL_EPOCH.toordinal() + int(f))
                for f in (dv.formula1, dv.formula2)
            )
            assert (dv.type, low, high) == ("date", dt.date(1990, 1, 1), dt.date(2099, 12, 31))
        elif field.kind is Kind.NUMBER:
            op = "greaterThan" if field.exclusive_minimum else "greaterThanOrEqual"
            assert (dv.type, dv.operator, float(dv.formula1)) == ("decimal", op, field.minimum)
        elif field.kind is Kind.INTEGER:
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
        elif field.kind is Kind.USCC:
            assert (dv.type, dv.operator, dv.formula1) == ("textLength", "equal", "18")
        else:
            assert (dv.type, dv.formula1, dv.formula2) == (
                "textLength",
                str(field.min_len),
                str(field.max_len),
            )
    assert not by_col  # no validation on a column that should not have one


def test_defined_names_and_lists(book: openpyxl.Workbook) -> None:
    lists = book[LISTS_SHEET]
    for c, choices in enumerate(ALL_CHOICES):
        letter = column_letter(c)
        ((sheet, ref),) = book.defined_names[choices.name].destinations
        assert (sheet, ref) == (LISTS_SHEET, f"${letter}$2:${letter}${len(choices.values) + 1}")
        values = [lists.cell(row=r, column=c + 1).value for r in range(2, len(choices.values) + 2)]
        assert tuple(values) == choices.values
    for field_id, name in CONTRACT_RANGE_NAMES.items():
        letter = column_letter(CONTRACTS.fields.index(CONTRACTS[field_id]))
        ((sheet, ref),) = book.defined_names[name].destinations
        assert (sheet, ref) == (CONTRACTS.sheet, f"${letter}$2:${letter}${LAST}")
    quarter_row = INFO.fields.index(INFO["quarter"]) + 1
    assert f"'{INFO.sheet}'!$B${quarter_row}" in book.defined_names[AS_OF_NAME].attr_text
    months = 12 * load_rules().tier.default.window_years
    assert book.defined_names[WINDOW_START_NAME].attr_text == f"EDATE({AS_OF_NAME},-{months})"


def test_info_sheet(book: openpyxl.Workbook) -> None:
    ws = book[INFO.sheet]
    labels = [ws.cell(row=r + 1, column=1).value for r in range(len(INFO.fields))]
    assert labels == list(INFO.headers)
    version_row = INFO.fields.index(INFO["version"]) + 1
    assert ws.cell(row=version_row, column=2).value == TEMPLATE_VERSION
    assert ws.cell(row=version_row, column=2).data_type == "s"
    others = [
        ws.cell(row=r + 1, column=2).value for r in range(len(INFO.fields)) if r + 1 != version_row
    ]
    assert others == [None] * (len(INFO.fields) - 1)
    kinds = {f"B{INFO.fields.index(f) + 1}": f.kind for f in INFO.fields}
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert dvs["B" + str(INFO.fields.index(INFO["quarter"]) + 1)].type == "custom"
    assert dvs["B" + str(INFO.fields.index(INFO["submitted_on"]) + 1)].type == "date"
    assert all(dv.showErrorMessage and dv.showInputMessage for dv in dvs.values())
    assert set(dvs) <= set(kinds)


def test_reference_tier_formula_on_every_roster_row(book: openpyxl.Workbook) -> None:
    ws = book[ROSTER.sheet]
    col = ROSTER.fields.index(ROSTER["ref_tier"]) + 1
    key = column_letter(ROSTER.fields.index(ROSTER["uscc"]))
    strategic = column_letter(ROSTER.fields.index(ROSTER["strategic"]))
    for r in (2, 3, LAST // 2, LAST):
        formula = ws.cell(row=r, column=col).value
        assert formula.startswith(f'=IF(TRIM(${key}{r})=""')
        assert f"TRIM(${strategic}{r})" in formula
        assert all(name in formula for name in CONTRACT_RANGE_NAMES.values())
    assert ws.cell(row=LAST + 1, column=col).value is None
    assert all(ws.cell(row=2, column=c).value is None for c in range(1, col))  # no data


@settings(max_examples=30, deadline=None)
@given(
    gt=st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
    n=st.integers(min_value=1, max_value=9),
    ge=st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
)
def test_roster_sheet_skips_only_what_xlsxwriter_would_not_change(
    gt: float, n: int, ge: float
) -> None:
    """_RosterSheet writes formulas unprepared: xlsxwriter's own step must be a no-op on them."""
    profile = load_rules().tier.default.model_copy(
        update={"group_amount_gt": gt, "group_min_count": n, "project_amount_ge": ge}
    )
    formula = tf.for_row(tf.ref_tier_formula(profile), 7)
    assert XlsxSheet()._prepare_formula(formula) == formula.removeprefix("=")
    assert _RosterSheet()._prepare_formula(formula) == formula.removeprefix("=")


def test_instructions_cover_sheets_enums_rules_and_version(book: openpyxl.Workbook) -> None:
    text = "\n".join(str(c.value) for c in book[INSTRUCTIONS_SHEET]["A"] if c.value)
    p = load_rules().tier.default
    for form in FORMS:
        assert f"【{form.sheet}】" in text
        assert all(f.header in text for f in form.fields if f.required)
    for choices in ALL_CHOICES:
        assert "／".join(choices.values) in text
    assert TEMPLATE_VERSION in text and "容错" in text
    assert all(
        f"{int(x)}" in text for x in (p.group_amount_gt, p.branch_amount_ge, p.project_amount_ge)
    )


SMALL = Layout(data_rows=5)


def test_formula_follows_the_rules_file(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        "[tier.default]\nwindow_years = 3\ngroup_amount_gt = 30000.5\ngroup_min_count = 3\n"
        "branch_amount_ge = 8000\nproject_amount_ge = 2500\n",
        encoding="utf-8",
    )
    path = write_submission(tmp_path / "r.xlsx", rules=load_rules(rules_file), layout=SMALL)
    wb = openpyxl.load_workbook(path)
    formula = wb[ROSTER.sheet].cell(row=2, column=ROSTER.fields.index(ROSTER["ref_tier"]) + 1).value
    assert '">30000.5"' in formula and ')>=3,"' in formula
    assert '">=8000"' in formula and '">=2500"' in formula
    assert wb.defined_names[WINDOW_START_NAME].attr_text == f"EDATE({AS_OF_NAME},-36)"
    text = "\n".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "3 年" in text and "30000.5" in text and "至少 3 份" in text


def test_filled_values_keep_their_type(tmp_path: Path) -> None:
    roster = [
        {
            "name": '=HYPERLINK("http://x")',
            "uscc": "911101080000000012",
            "phone": "01012345678",
            "remark": "@SUM(A1)",
            "owner": "+12",
            "listed_on": dt.date(2024, 3, 1),
            "industry": None,
            "owner_title": math.nan,
        },
        {"name": "客户乙", "listed_on": dt.datetime(2024, 3, 1, 9, 30), "tier": 3},
    ]
    contracts = [
        {"amount": 12000.5, "overdue_days": 3, "signed_on": "2024/3/1", "contract_no": "007"}
    ]
    path = write_submission(
        tmp_path / "f.xlsx",
        {"quarter": "2026Q3"},
        {"roster": roster, "contracts": contracts},
        layout=SMALL,
    )
    wb = openpyxl.load_workbook(path)
    ws = wb[ROSTER.sheet]

    def cell(form: Form, ws: Worksheet, row: int, field_id: str) -> object:
        return ws.cell(row=row, column=form.fields.index(form[field_id]) + 1)

    for field_id in ("name", "uscc", "phone", "remark", "owner"):
        c = cell(ROSTER, ws, 2, field_id)
        assert (c.value, c.data_type) == (roster[0][field_id], "s")
    assert cell(ROSTER, ws, 2, "industry").value is None
    assert cell(ROSTER, ws, 2, "owner_title").value is None
    listed = cell(ROSTER, ws, 2, "listed_on")
    assert (listed.value, listed.number_format) == (dt.datetime(2024, 3, 1), "yyyy-mm-dd")
    assert cell(ROSTER, ws, 3, "listed_on").value == dt.datetime(2024, 3, 1, 9, 30)
    assert cell(ROSTER, ws, 3, "tier").value == 3  # a wrong type is written as it is
    ref = cell(ROSTER, ws, 2, "ref_tier")
    assert ref.data_type == "f" and ref.value.startswith("=IF(")
    ledger = wb[CONTRACTS.sheet]
    assert cell(CONTRACTS, ledger, 2, "amount").value == 12000.5
    assert cell(CONTRACTS, ledger, 2, "overdue_days").value == 3
    assert cell(CONTRACTS, ledger, 2, "signed_on").value == "2024/3/1"  # text date stays text
    assert cell(CONTRACTS, ledger, 2, "contract_no").value == "007"
    assert wb[INFO.sheet]["B2"].value == "2026Q3"
    assert str(ledger.data_validations.dataValidation[0].sqref).endswith("6")  # SMALL layout


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(
        alphabet=st.sampled_from("=+-@\t 0123456789AZaz_x.,（）客户名称"), min_size=1, max_size=20
    )
)
def test_any_string_is_written_as_that_string(tmp_path: Path, text: str) -> None:
    path = write_submission(
        tmp_path / "h.xlsx", {"unit": text}, {"roster": [{"remark": text}]}, layout=SMALL
    )
    wb = openpyxl.load_workbook(path)
    remark = wb[ROSTER.sheet].cell(row=2, column=ROSTER.fields.index(ROSTER["remark"]) + 1)
    assert (remark.value, remark.data_type) == (text, "s")
    assert wb[INFO.sheet]["B1"].value == text


def test_title_rows_shift_everything(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "t.xlsx", layout=Layout(title_rows=1, data_rows=10))
    wb = openpyxl.load_workbook(path)
    for form in TABLE_FORMS:
        ws = wb[form.sheet]
        assert header_row(ws, form, row=2) == list(form.headers)
        assert ws.freeze_panes == "A3"
        assert all(
            str(dv.sqref).split(":")[0].endswith("3") for dv in ws.data_validations.dataValidation
        )
    ((_sheet, ref),) = wb.defined_names[CONTRACT_RANGE_NAMES["amount"]].destinations
    assert ref.endswith("$3:$" + ref.split("$")[1] + "$12")
    key = column_letter(ROSTER.fields.index(ROSTER["uscc"]))
    assert (
        wb[ROSTER.sheet]
        .cell(row=3, column=ROSTER.fields.index(ROSTER["ref_tier"]) + 1)
        .value.startswith(f'=IF(TRIM(${key}3)=""')
    )


@pytest.mark.parametrize(
    ("info", "rows"),
    [
        ({"nope": 1}, None),
        (None, {"nope": []}),
        (None, {"roster": [{"name": "甲", "nope": 1}]}),
        (None, {"roster": [{"name": object()}]}),
    ],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, info: object, rows: object) -> None:
    with pytest.raises(UsageError, match=r"nope|类型不支持"):
        write_submission(tmp_path / "x.xlsx", info, rows, layout=SMALL)  # type: ignore[arg-type]


def test_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="无法写入"):
        write_submission(tmp_path / "missing" / "x.xlsx", layout=SMALL)


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table sheet's cells as (coordinate, value, number format), blanks left out."""
    wb = openpyxl.load_workbook(path)
    return {
        form.sheet: [
            (c.coordinate, c.value, c.number_format if c.value is not None else None)
            for row in wb[form.sheet].iter_rows()
            for c in row
            if c.value is not None
        ]
        for form in TABLE_FORMS
    }


# Register text holds no control characters (kam.register.sheet_rows drops them), which
# xlsxwriter would escape: the texts here are register texts.
# Formula-like texts differ on purpose: the spliced rows quote-prefix them (test below).
REGISTER_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12
).filter(lambda t: not starts_formula(t))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(REGISTER_TEXT, min_size=1, max_size=4),
    amount=st.floats(min_value=0.01, max_value=1e9, allow_nan=False),
    with_time=st.booleans(),
)
def test_spliced_rows_read_back_as_xlsxwriter_writes_them(
    tmp_path: Path, texts: list[str], amount: float, with_time: bool
) -> None:
    """Layout(spliced=True) is a faster way to the same cells: values, formats, formulas."""
    signed = dt.datetime(2024, 3, 1, 9, 30) if with_time else dt.datetime(2024, 3, 1)
    rows = {
        "roster": [roster_row(name=t, remark=t) for t in texts],
        "contracts": [
            contract_row(no=f"HT-{i}", project=t, amount=amount, signed_on=signed, receivable=None)
            for i, t in enumerate(texts)
        ],
        "cards": [card_row(history=float("nan"), needs=t) for t in texts],
    }
    layout = Layout(data_rows=30)
    plain = write_submission(tmp_path / "plain.xlsx", INFO_OK, rows, layout=layout)
    fast = write_submission(
        tmp_path / "fast.xlsx", INFO_OK, rows, layout=replace(layout, spliced=True)
    )
    assert _cells(fast) == _cells(plain)
    assert not list(tmp_path.glob("*.rows.xml"))


@pytest.mark.parametrize("text", ["=1+1", "+cmd|' /C calc'!A0", "-待集团复核", " @SUM(A1)", "＝1"])
def test_spliced_formula_like_text_keeps_the_quote_prefix(tmp_path: Path, text: str) -> None:
    """A pre-filled value that Excel would run as a formula stays text on F2+Enter."""
    rows = {"roster": [roster_row(remark=text)]}
    path = write_submission(
        tmp_path / "fast.xlsx", INFO_OK, rows, layout=Layout(data_rows=5, spliced=True)
    )
    ws = openpyxl.load_workbook(path)[ROSTER.sheet]
    cell = ws.cell(2, ROSTER.fields.index(ROSTER["remark"]) + 1)
    assert cell.value == text and cell.data_type == "s"
    assert cell.quotePrefix
