"""The 合并报送 button, headless: the same merge as `kam merge`, through the Book interface."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from test_merge import CODES, branch_file, sheet_rows
from test_register_edits import _edit

from kam.io.openpyxl_book import OpenpyxlBook
from kam.register.columns import REG_ROSTER, REGISTER_FILENAME, SUBMISSIONS
from kam.register.edits import LOST_HEADERS
from kam.register.safety import register_lock
from kam.rules import RULES_ENV
from macros import merge as button

TODAY = dt.date(2026, 10, 20)
A, B = "华东分公司", "华南分公司"
MERGE_INTO = button.merge_into


@pytest.fixture(autouse=True)
def no_user_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither $KAM_RULES nor a ~/.kam/rules.toml of the machine running the tests."""
    monkeypatch.delenv(RULES_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def quarter(tmp: Path, name: str = "2026Q3") -> Path:
    inbox = tmp / "hq" / name
    branch_file(inbox, "a.xlsx", A, CODES[:2])
    branch_file(inbox, "b.xlsx", B, CODES[2:4])
    return inbox


def branch_book(tmp: Path) -> OpenpyxlBook:
    """HQ has some other workbook active when it presses the button."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "随便一个工作簿"
    wb.save(tmp / "other.xlsx")
    return OpenpyxlBook.open(tmp / "other.xlsx")


def press(book: OpenpyxlBook, folder: Path | None, monkeypatch: pytest.MonkeyPatch) -> str:
    """Press the button with `folder` picked; the message box text ("" if none)."""
    book.folder_choice = folder
    with monkeypatch.context() as m:  # the sample files' dates, not the real today
        m.setattr(button, "merge_into", lambda b, f: MERGE_INTO(b, f, today=TODAY))
        button.run(book)
    assert len(book.alerts) <= 1
    return book.alerts[0][1] if book.alerts else ""


def test_first_merge_creates_the_register_beside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = quarter(tmp_path)
    book = branch_book(tmp_path)
    text = press(book, inbox, monkeypatch)
    register = inbox.parent / REGISTER_FILENAME
    assert register.is_file()
    assert f"名录：{register}" in text and "文件 2 个（已合并 2 个）" in text
    assert "行 12：合并 12、拒收 0、重复 0" in text  # 4 customers x (roster, contract, card)
    assert len(sheet_rows(register, REG_ROSTER.sheet)) == 4
    assert book.statuses[0] == "合并报送：[1/2] 读取 a.xlsx" and book.statuses[-1] == ""
    assert book.opened == [register] and not book.closed


def test_cancelled_folder_dialog_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = quarter(tmp_path)
    book = branch_book(tmp_path)
    assert press(book, None, monkeypatch) == ""
    assert not (inbox.parent / REGISTER_FILENAME).exists() and not book.statuses


def test_open_register_is_closed_merged_and_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    press(branch_book(tmp_path), quarter(tmp_path), monkeypatch)
    register = tmp_path / "hq" / REGISTER_FILENAME
    moved = tmp_path / "elsewhere" / "名录.xlsx"  # the open register wins over the default
    moved.parent.mkdir()
    register.rename(moved)
    nxt = tmp_path / "hq" / "2026Q4"
    branch_file(nxt, "a.xlsx", A, CODES[:3], quarter="2026Q4")
    book = OpenpyxlBook.open(moved)
    text = press(book, nxt, monkeypatch)
    assert book.closed and book.opened == [moved], text
    assert f"名录：{moved}" in text and not register.exists()
    quarters = {r["报送季度"] for r in sheet_rows(moved, SUBMISSIONS.sheet)}
    assert quarters == {"2026Q3", "2026Q4"}


def test_unsaved_register_is_not_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    press(branch_book(tmp_path), quarter(tmp_path), monkeypatch)
    register = tmp_path / "hq" / REGISTER_FILENAME
    before = register.read_bytes()
    book = OpenpyxlBook.open(register)
    book.unsaved = True
    text = press(book, quarter(tmp_path, "again"), monkeypatch)
    assert "合并报送未完成" in text and "请先保存" in text
    assert not book.closed and register.read_bytes() == before


def test_rules_file_names_register_and_branches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[merge]\nregister_file = "总部/名录.xlsx"\nbranches = ["华东分公司", "华北分公司"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(RULES_ENV, str(rules))
    inbox = tmp_path / "hq" / "2026Q3"
    branch_file(inbox, "a.xlsx", A, CODES[:2])
    book = branch_book(tmp_path)
    text = press(book, inbox, monkeypatch)
    register = tmp_path / "hq" / "总部" / "名录.xlsx"
    assert register.is_file() and book.opened == [register]
    assert "未报送：华北分公司。" in text


def test_lost_hand_edit_is_in_the_message_and_a_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    press(branch_book(tmp_path), quarter(tmp_path), monkeypatch)
    register = tmp_path / "hq" / REGISTER_FILENAME
    _edit(register, REG_ROSTER, {"uscc": CODES[0]}, "calc_tier", "集团级")
    nxt = tmp_path / "hq" / "2026Q4"
    branch_file(nxt, "a.xlsx", A, CODES[:3], quarter="2026Q4")
    text = press(OpenpyxlBook.open(register), nxt, monkeypatch)
    assert "有 1 处手工修改未能保留" in text and "计算等级 集团级" in text
    (csv,) = (register.parent / "history").glob("*.未保留的手工修改.csv")
    assert str(csv) in text
    lines = csv.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(LOST_HEADERS) and "集团级" in lines[1]


def test_held_lock_is_a_message_and_the_register_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    press(branch_book(tmp_path), quarter(tmp_path), monkeypatch)
    register = tmp_path / "hq" / REGISTER_FILENAME
    book = OpenpyxlBook.open(register)
    with register_lock(register):
        text = press(book, quarter(tmp_path, "again"), monkeypatch)
    assert "合并报送未完成" in text and "Traceback" not in text
    assert book.closed and book.opened == [register] and book.statuses[-1] == ""


def test_every_button_reads_the_users_rules_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kam.rules import user_rules

    rules = tmp_path / "rules.toml"
    rules.write_text("[tier.default]\nwindow_years = 3\n", encoding="utf-8")
    assert user_rules().tier.default.window_years == 5
    monkeypatch.setenv(RULES_ENV, str(rules))
    assert user_rules().tier.default.window_years == 3
    (tmp_path / "home" / ".kam").mkdir(parents=True)
    (tmp_path / "home" / ".kam" / "rules.toml").write_text("[merge]\nkeep_history = 4\n")
    monkeypatch.delenv(RULES_ENV)
    assert user_rules().merge.keep_history == 4
