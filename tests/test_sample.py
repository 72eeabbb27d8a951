"""The sample quarter: deterministic, realistic, every rule planted, every plant exactly found."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from kam.errors import UsageError
from kam.forms import FORMS, TIER
from kam.messages import CATALOG, RULE_IDS, Severity
from kam.reader import norm_name
from kam.sample import (
    BranchFile,
    Planted,
    QuarterSettings,
    clean_index,
    make_quarter,
    write_quarter,
)
from kam.sample.mistakes import expected_tier
from kam.sample.quarter import quarter_end, window_start
from kam.uscc import uscc_ok
from kam.validate import ValidateSettings, validate_file

DEFAULT = QuarterSettings()
SHEET_FORM = {f.sheet: f for f in FORMS}
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-[2-9]\d{6,7}$")
seeds = st.integers(min_value=0, max_value=10**6)


def _header_row(bf: BranchFile, form_id: str) -> int:
    return bf.drift.header_row(form_id) if bf.drift else 1


def test_same_seed_same_quarter_other_seed_other_quarter() -> None:
    a, b = make_quarter(DEFAULT), make_quarter(QuarterSettings())
    assert a == b
    assert [[(p.sheet, p.row, p.value) for p in f.planted] for f in a] == [
        [(p.sheet, p.row, p.value) for p in f.planted] for f in b
    ]
    other = make_quarter(QuarterSettings(seed=7))
    assert [f.rows.get("roster") for f in other] != [f.rows.get("roster") for f in a]


NOT_PLANTED = {"template_version", "prefill_changed"}
"""Rules a sample quarter cannot show: its files are the current template, and not pre-filled."""


def test_every_rule_is_planted_in_the_default_quarter() -> None:
    files = make_quarter(DEFAULT)
    planted = {p.rule for f in files for p in f.planted}
    assert planted == set(RULE_IDS) - NOT_PLANTED
    assert len(files) == DEFAULT.branches + 1  # plus the file that is not a workbook
    assert files[-1].unreadable and files[-1].planted == [Planted(None, None, None, "unreadable")]
    drifted = [f for f in files if f.drift and (f.drift.cells or f.drift.headers)]
    assert 2 <= len(drifted) <= 3


@settings(max_examples=8, deadline=None)
@given(seed=seeds, branches=st.integers(min_value=4, max_value=12))
def test_every_rule_is_planted_for_any_seed(seed: int, branches: int) -> None:
    files = make_quarter(QuarterSettings(seed=seed, branches=branches))
    assert {p.rule for f in files for p in f.planted} == set(RULE_IDS) - NOT_PLANTED
    for f in files:
        cells = [(p.sheet, p.row, p.field) for p in f.planted if p.row is not None]
        assert len(cells) == len(set(cells)), f"{f.branch}: two findings planted on one cell"


@settings(max_examples=8, deadline=None)
@given(
    seed=seeds,
    branches=st.integers(min_value=1, max_value=12),
    quarter=st.sampled_from(["2024Q1", "2025Q4", "2026Q2", "2026Q3"]),
    late=st.integers(min_value=1, max_value=40),
)
def test_without_mistakes_nothing_is_planted_and_every_value_is_valid(
    seed: int, branches: int, quarter: str, late: int
) -> None:
    end = quarter_end(quarter)
    s = QuarterSettings(quarter, branches, seed, False, end + dt.timedelta(days=late))
    files = make_quarter(s)
    assert len(files) == branches
    start = window_start(s.as_of)
    for f in files:
        assert f.planted == [] and f.drift is None
        roster, deals = f.rows["roster"], f.rows["contracts"]
        assert 15 <= len(roster) <= 40
        assert f.info["unit"] == f.branch and f.info["submitted_on"] <= s.today
        codes = [r["uscc"] for r in roster]
        assert len(set(codes)) == len(codes) and all(uscc_ok(c) for c in codes)
        for r in roster:
            mine = [c for c in deals if c["uscc"] == r["uscc"]]
            assert 2 <= len(mine) <= 8
            assert expected_tier(mine, r["strategic"], s.as_of) == r["tier"]
            assert r["unit"] == f.branch or r["tier"] == TIER.values[0]
            assert r["listed_on"] <= s.as_of
        phones = [r["phone"] for r in roster] + [c["contact_phone"] for c in f.rows["cards"]]
        assert all(MOBILE.match(p) or LANDLINE.match(p) or p.startswith("+86 ") for p in phones)
        assert all(
            c["uscc"] in codes
            for form in ("cards", "reception", "maintenance", "risk")
            for c in f.rows[form]
        )
        assert all(start <= c["signed_on"] <= s.as_of or c["signed_on"] < start for c in deals)
        nos = [c["contract_no"] for c in deals]
        assert len(set(nos)) == len(nos)
        logged = [r["date"] for r in f.rows["reception"]] + [r["found_on"] for r in f.rows["risk"]]
        assert all(x <= s.latest for x in logged)
        for m in f.rows["maintenance"]:
            assert m["date"] <= s.latest
            assert m["closed_on"] is None or m["date"] <= m["closed_on"] <= s.latest


def test_settings_are_checked() -> None:
    with pytest.raises(UsageError):
        QuarterSettings(quarter="2026Q5")
    with pytest.raises(UsageError):
        QuarterSettings(branches=0)
    assert QuarterSettings().as_of == dt.date(2026, 9, 30)
    assert quarter_end("2024Q1") == dt.date(2024, 3, 31)
    assert window_start(dt.date(2024, 2, 29)) == dt.date(2019, 2, 28)


def test_amounts_reach_every_tier_band_and_dates_span_five_years() -> None:
    s = QuarterSettings(mistakes=False)
    files = make_quarter(s)
    amounts = [c["amount"] for f in files for c in f.rows["contracts"]]
    assert any(a > 20000 for a in amounts)
    assert any(10000 <= a <= 20000 for a in amounts)
    assert any(5000 <= a < 10000 for a in amounts)
    assert any(a < 5000 for a in amounts)
    tiers = Counter(r["tier"] for f in files for r in f.rows["roster"])
    assert set(tiers) == set(TIER.values)
    years = {c["signed_on"].year for f in files for c in f.rows["contracts"]}
    assert set(range(s.as_of.year - 5, s.as_of.year + 1)) <= years
    # group-level customers shared by two branches, and 集团级 customers owned elsewhere
    owners: dict[str, set[str]] = {}
    for f in files:
        for r in f.rows["roster"]:
            owners.setdefault(r["uscc"], set()).add(f.branch)
    assert sum(len(b) == 2 for b in owners.values()) == 3
    assert any(r["unit"] != f.branch for f in files for r in f.rows["roster"])


def test_planted_contracts_never_decide_a_tier() -> None:
    """Tiers come out the same whether or not an engine counts the contracts with errors."""
    for f in make_quarter(DEFAULT)[:-1]:
        first = _header_row(f, "contracts") + 1
        bad = {
            p.row - first
            for p in f.planted
            if p.sheet == "合同台账" and p.row and CATALOG[p.rule].severity is Severity.ERROR
        }
        clean = [c for i, c in enumerate(f.rows["contracts"]) if i not in bad]
        for r in f.rows["roster"]:
            mine = [c for c in f.rows["contracts"] if c["uscc"] == r["uscc"]]
            kept = [c for c in clean if c["uscc"] == r["uscc"]]
            every = expected_tier(mine, r["strategic"], DEFAULT.as_of)
            assert every == expected_tier(kept, r["strategic"], DEFAULT.as_of), r["name"]


def test_the_clean_branch_has_nothing_planted_and_holds_the_boundary_cases() -> None:
    files = make_quarter(DEFAULT)
    clean = files[clean_index(DEFAULT.branches)]
    assert clean.planted == [] and clean.drift is None
    deals = clean.rows["contracts"]
    start = window_start(DEFAULT.as_of)
    assert any(c["signed_on"] == start for c in deals)
    assert any(c["signed_on"] == start - dt.timedelta(days=1) for c in deals)
    assert sum(c["amount"] == 20000.0 for c in deals) >= 2
    assert any(r["phone"].startswith("+86 ") for r in clean.rows["roster"])
    assert any(r["remark"] == "-5%" for r in clean.rows["roster"])


# --- the written quarter ---------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, BranchFile]]:
    return write_quarter(tmp_path_factory.mktemp("quarter"), DEFAULT)


def _same(cell: object, planted: object) -> bool:
    if isinstance(cell, dt.datetime) and isinstance(planted, dt.date):
        return cell.date() == planted
    if isinstance(cell, int | float) and isinstance(planted, int | float):
        return float(cell) == float(planted)
    return cell == planted


def test_files_are_written_and_open_with_openpyxl(written: list[tuple[Path, BranchFile]]) -> None:
    assert [p.name for p, _ in written] == [bf.filename for bf in make_quarter(DEFAULT)]
    for path, bf in written:
        if bf.unreadable:
            with pytest.raises((zipfile.BadZipFile, InvalidFileException)):
                load_workbook(path)
            continue
        wb = load_workbook(path, read_only=True)
        gone = set(bf.drift.removed_sheets) if bf.drift else set()
        for form in FORMS:
            assert (form.sheet in wb.sheetnames) == (form.id not in gone)
        wb.close()


def test_planted_cells_hold_the_planted_values(written: list[tuple[Path, BranchFile]]) -> None:
    checked = Counter()
    for path, bf in written:
        if bf.unreadable:
            continue
        wb = load_workbook(path)
        for p in bf.planted:
            if p.sheet is None:
                continue
            form = SHEET_FORM[p.sheet]
            if p.rule == "missing_sheet":
                assert p.sheet not in wb.sheetnames
                continue
            ws = wb[p.sheet]
            if form.pairs:
                assert ws.cell(p.row, 1).value == form[p.field].header
                assert _same(ws.cell(p.row, 2).value, p.value)
                continue
            header_row = _header_row(bf, form.id)
            headers = [c.value for c in ws[header_row]]
            if p.rule == "unknown_column":  # marked on its header cell
                assert p.row == header_row and p.value in headers
                continue
            if p.row is None:
                present = {norm_name(h) for h in headers}
                assert norm_name(form[p.field].header) not in present
                continue
            col = 1 + [norm_name(h) for h in headers].index(norm_name(form[p.field].header))
            assert _same(ws.cell(p.row, col).value, p.value), (path.name, p)
            checked[p.rule] += 1
        wb.close()
    assert checked["normalized"] >= 10 and checked["tier_upgrade"] >= 2


def test_validating_the_written_quarter_reports_exactly_the_planted_findings(
    written: list[tuple[Path, BranchFile]],
) -> None:
    header_to_id = {(f.sheet, fl.header): fl.id for f in FORMS for fl in f.fields}
    for path, bf in written:
        report = validate_file(path, ValidateSettings(today=DEFAULT.today))
        found = Counter(
            (
                f.sheet,
                f.row,
                None if f.rule == "unknown_column" else header_to_id.get((f.sheet, f.column)),
                f.rule,
            )
            for f in report.findings
        )
        planted = Counter((p.sheet, p.row, p.field, p.rule) for p in bf.planted)
        assert found == planted, (path.name, found - planted, planted - found)
