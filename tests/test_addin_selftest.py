"""kam addin selftest against a fake Excel with the same calls: every job runs through
KamRun and is checked by its effect, the functions are compared with the engine, the
report is saved, no workbook is saved, and a broken job or function shows as a failure."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin import build, selftest
from addin.install import DesktopExcelRequiredError
from kam.io.openpyxl_book import OpenpyxlBook
from tests.fake_excel import FakeExcel

JOBS = ["validate", "clear_marks", "compute_tiers", "new_template", "merge", "risk_marks"]


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build.build_addin(tmp_path_factory.mktemp("addin"))


def settings(tmp_path: Path, xlam: Path) -> selftest.SelftestSettings:
    return selftest.SelftestSettings(
        addin=xlam, report_dir=tmp_path / "report", work_dir=tmp_path / "work"
    )


def digests(folder: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def test_every_step_passes_in_a_working_excel(tmp_path: Path, xlam: Path) -> None:
    app = FakeExcel()
    s = settings(tmp_path, xlam)
    before = digests(xlam.parent)
    steps = selftest.run_selftest(app, s)
    assert [st.ok for st in steps] == [True] * 9, [st for st in steps if not st.ok]
    assert [job for job, _ in app.calls] == JOBS
    assert dict(app.calls)["merge"] == (str(s.work_dir / "本季度报送"),)  # no dialog
    assert app.opened == []  # every book closed
    assert digests(xlam.parent) == before  # the add-in file untouched
    assert "5 个公式结果一致" in steps[-1].detail


def test_no_workbook_is_saved(tmp_path: Path, xlam: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved: list[Path] = []
    monkeypatch.setattr(OpenpyxlBook, "save_as", lambda self, path: saved.append(path))
    s = settings(tmp_path, xlam)
    steps = selftest.run_selftest(FakeExcel(), s)
    assert all(st.ok for st in steps) and saved == []
    # The marks lived only in the open book: the sample file on disk has none.
    inbox = s.work_dir / "本季度报送"
    for sample in filter(zipfile.is_zipfile, inbox.glob("*.xlsx")):  # one is a planted CSV
        assert "校验结果" not in openpyxl.load_workbook(sample).sheetnames
    assert not (inbox / "分公司季度报送模板.xlsx").exists()  # kept out of the merge
    # Everything written is inside the selftest's own folders.
    assert {p.parent for p in s.work_dir.rglob("*.xlsx")} <= {s.work_dir, inbox}


@pytest.mark.parametrize(
    ("broken", "failing"),
    [
        ("validate", "校验本簿（validate）"),
        ("compute_tiers", "计算等级（compute_tiers）"),
        ("merge", "合并报送（merge）"),
        ("KA_USCC_OK", "四个工作表函数（.xlsx）与引擎一致"),
        ("KamVersion", "KamVersion()：VBA 已在 Excel 中编译"),
    ],
)
def test_a_broken_job_or_function_fails_its_step_and_the_rest_still_run(
    tmp_path: Path, xlam: Path, broken: str, failing: str
) -> None:
    steps = selftest.run_selftest(FakeExcel(broken), settings(tmp_path, xlam))
    assert [st.name for st in steps if not st.ok][:1] == [failing]
    assert len(steps) == 9
    if broken == "KA_USCC_OK":
        (bad,) = [st for st in steps if not st.ok]
        assert "F4 =KA_USCC_OK(C2)" in bad.detail and "#VALUE!" in bad.detail


def test_an_addin_that_does_not_open_stops_with_one_failed_step(tmp_path: Path) -> None:
    steps = selftest.run_selftest(FakeExcel(), settings(tmp_path, tmp_path / "nowhere.xlsx"))
    assert [(st.name, st.ok) for st in steps] == [("打开 kam.xlam", False)]


def test_the_report_is_a_text_file_with_the_table(tmp_path: Path, xlam: Path) -> None:
    s = settings(tmp_path, xlam)
    steps = selftest.run_selftest(FakeExcel("risk_marks"), s)
    path = selftest.save_report(steps, s)
    text = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "report" and path.name.startswith("selftest-")
    assert f"kam {build.kam_version()}" in text and str(xlam) in text
    assert "[未通过] 风险标记（risk_marks）" in text and "[通过] 校验本簿（validate）" in text
    assert text.rstrip().endswith("通过 8 项，未通过 1 项")


def test_on_linux_the_selftest_needs_desktop_excel(tmp_path: Path, xlam: Path) -> None:
    with pytest.raises(DesktopExcelRequiredError, match="桌面版 Excel"):
        selftest.in_excel(settings(tmp_path, xlam), "linux")
