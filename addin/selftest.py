"""`kam addin selftest`: every button and worksheet function of kam.xlam, in real Excel.

Starts Excel through xlwings, opens kam.xlam and a freshly generated sample quarter in a
new temporary folder, runs each job through the add-in's public KamRun (合并报送 with a
folder argument instead of the dialog) and checks its effect in the workbooks, then writes
the four functions into an .xlsx and compares Excel's results with the engine's. It never
saves a workbook and touches no user file: everything it opens it generated itself.

The logic only uses the xlwings calls listed in `App` below, so the tests drive it with a
fake Excel that answers the same calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import openpyxl
from openpyxl.utils import get_column_letter

from kam.forms import ROSTER
from kam.io.book import MARKS_SHEET, RESULTS_SHEET
from kam.register.columns import REG_ROSTER, RISK_LEVEL_COL
from kam.sample import QuarterSettings, write_quarter
from kam.template import TEMPLATE_FILENAME

ADDIN = "kam.xlam"
REGISTER_NAME = "集团大客户名录.xlsx"
# Inputs of the function check: (formula, the Python call that must give the same value).
VALID_USCC = "91350100M000100Y43"
FUNCTION_SHEET = [
    ["合同金额（万元）", "签订日期", "客户代码", "战略"],
    [800, dt.datetime(2026, 3, 1), VALID_USCC, "否"],
    [300, dt.datetime(2025, 11, 20), VALID_USCC, "否"],
    [50, dt.datetime(2026, 5, 5), "91110000100000000X", "是"],
]


class App(Protocol):
    """The xlwings App calls the selftest makes (xlwings.App answers them)."""

    books: Any

    def macro(self, name: str) -> Callable[..., Any]: ...

    def calculate(self) -> None: ...


class Step(NamedTuple):
    """One row of the report."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SelftestSettings:
    """What to test and where the sample files and the report go."""

    addin: Path
    report_dir: Path
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kam-selftest-")))
    now: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def report(self) -> Path:
        return self.report_dir / f"selftest-{self.now:%Y%m%d-%H%M%S}.txt"


def _names(book: Any) -> list[str]:
    return [s.name for s in book.sheets]


def _rows(sheet: Any) -> list[list[Any]]:
    value = sheet.used_range.value
    if not isinstance(value, list):
        return [[value]]
    return [row if isinstance(row, list) else [row] for row in value]


def _column(book: Any, sheet: str, header: str) -> tuple[str, list[Any]]:
    """The cells under a header (our generated books start at A1): address, values."""
    rows = _rows(book.sheets[sheet])
    for r, row in enumerate(rows, start=1):
        if header in row:
            letter = get_column_letter(row.index(header) + 1)
            below = [
                other[row.index(header)] if len(other) > row.index(header) else None
                for other in rows[r:]
            ]
            return f"{letter}{r + 1}:{letter}{max(len(rows), r + 1)}", below
    return "", []


def _filled(book: Any, sheet: str, header: str) -> bool:
    """True when the column under header holds at least one value."""
    return any(v not in (None, "") for v in _column(book, sheet, header)[1])


def _function_cases() -> list[tuple[str, str, Any]]:
    """(cell, formula, what the engine gives for the same arguments)."""
    from addin import udfs

    amounts = [[r[0]] for r in FUNCTION_SHEET[1:3]]
    dates = [[r[1]] for r in FUNCTION_SHEET[1:3]]
    keys = [[r[2]] for r in FUNCTION_SHEET[1:]]
    return [
        ("F2", '=KA_TIER(A2:A3,B2:B3,"否","2026Q3")', udfs.KA_TIER(amounts, dates, "否", "2026Q3")),
        (
            "F3",
            '=KA_TIER_REASON(A2:A3,B2:B3,"否","2026Q3")',
            udfs.KA_TIER_REASON(amounts, dates, "否", "2026Q3"),
        ),
        ("F4", "=KA_USCC_OK(C2)", udfs.KA_USCC_OK(VALID_USCC)),
        ("F5", "=KA_USCC_OK(C4)", udfs.KA_USCC_OK(FUNCTION_SHEET[3][2])),
        (
            "G2",
            '=KA_TIERS(C2:C4,C2:C4,A2:A4,B2:B4,D2:D4,"2026Q3")',
            udfs.KA_TIERS(
                keys,
                keys,
                [[r[0]] for r in FUNCTION_SHEET[1:]],
                [[r[1]] for r in FUNCTION_SHEET[1:]],
                [[r[3]] for r in FUNCTION_SHEET[1:]],
                "2026Q3",
            )[0][0],
        ),
    ]


class _Run:
    """The steps, in order; each one's failure is recorded and the next ones still run."""

    def __init__(self, app: App, settings: SelftestSettings) -> None:
        self.app = app
        self.settings = settings
        self.steps: list[Step] = []
        self.opened: list[Any] = []

    def step(self, name: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
        except Exception as exc:  # Excel's COM errors are of many kinds: report, go on
            self.steps.append(Step(name, False, f"{type(exc).__name__}: {exc}"))
            return False
        self.steps.append(Step(name, True, detail))
        return True

    def open(self, path: Path) -> Any:
        book = self.app.books.open(str(path))
        self.opened.append(book)
        return book

    def kam_run(self, job: str, *args: str) -> None:
        self.app.macro(f"'{ADDIN}'!KamRun")(job, *args)

    def job(self, name: str, job: str, ok: Callable[[], bool], said: str, *args: str) -> None:
        """Run one job through KamRun and check its effect."""

        def check() -> str:
            self.kam_run(job, *args)
            return expect(ok(), said, f"{said}：未发生")

        self.step(f"{name}（{job}）", check)


def expect(ok: bool, detail: str, failure: str) -> str:
    if not ok:
        raise AssertionError(failure)
    return detail


def _sample(inbox: Path) -> Path:
    """A generated branch file with planted mistakes and every sheet (a quarter's files
    include ones missing a sheet or unreadable, which are no use here)."""
    for path, bf in write_quarter(inbox, QuarterSettings(branches=4)):
        if bf.unreadable or not bf.planted:
            continue
        if ROSTER.sheet in openpyxl.load_workbook(path, read_only=True).sheetnames:
            return path
    raise AssertionError("示例报送生成失败")


def _version(app: App) -> str:
    from addin.build import kam_version

    got = app.macro(f"'{ADDIN}'!KamVersion")()
    want = kam_version()
    return expect(
        got == want, f"版本 {got}", f"加载项返回 {got!r}，应为 {want}：请重新运行 kam addin install"
    )


def run_selftest(app: App, settings: SelftestSettings) -> list[Step]:
    """Every check, in order, against the Excel behind app; the books it opened are closed
    without saving."""
    r = _Run(app, settings)
    inbox = settings.work_dir / "本季度报送"
    register = settings.work_dir / REGISTER_NAME
    template = inbox / TEMPLATE_FILENAME
    try:
        if not r.step("打开 kam.xlam", lambda: str(r.open(settings.addin).fullname)):
            return r.steps
        r.step("KamVersion()：VBA 已在 Excel 中编译", lambda: _version(app))
        book = r.open(_sample(inbox))
        kam_sheets = {RESULTS_SHEET, MARKS_SHEET}
        r.job(
            "校验本簿",
            "validate",
            lambda: kam_sheets <= set(_names(book)),
            f"生成“{RESULTS_SHEET}”表并标记单元格",
        )
        r.job(
            "清除标记",
            "clear_marks",
            lambda: not kam_sheets & set(_names(book)),
            f"清除标记与“{RESULTS_SHEET}”表",
        )
        header = ROSTER["calc_tier"].header
        r.job(
            "计算等级",
            "compute_tiers",
            lambda: _filled(book, ROSTER.sheet, header),
            f"名录的“{header}”列已填写",
        )
        r.job("新建模板", "new_template", template.is_file, f"生成 {template}")
        template.unlink(missing_ok=True)  # not a branch file: keep it out of the merge
        r.job("合并报送", "merge", register.is_file, f"生成 {register}", str(inbox))
        r.step("风险标记（risk_marks）", lambda: _risk(r, register))
        r.step("四个工作表函数（.xlsx）与引擎一致", lambda: _functions(r, settings.work_dir))
    finally:
        # What the jobs opened too (合并报送 opens the register), all from our folder.
        ours = [b for b in app.books if settings.work_dir in Path(str(b.fullname)).parents]
        for opened in [*reversed(r.opened), *ours]:
            # xlwings closes without saving; 合并报送 may have closed one already.
            with contextlib.suppress(Exception):
                opened.close()
    return r.steps


def _risk(r: _Run, register: Path) -> str:
    book = next((b for b in r.app.books if Path(str(b.fullname)).name == register.name), None)
    if book is None:
        book = r.open(register)
    book.activate()
    # Merge already filled the risk column: empty it in the open book (never saved) so
    # only the job can fill it again.
    address, _ = _column(book, REG_ROSTER.sheet, RISK_LEVEL_COL.header)
    expect(bool(address), "", f"名录中没有“{RISK_LEVEL_COL.header}”列")
    book.sheets[REG_ROSTER.sheet].range(address).value = None
    r.kam_run("risk_marks")
    return expect(
        _filled(book, REG_ROSTER.sheet, RISK_LEVEL_COL.header),
        f"名录的“{RISK_LEVEL_COL.header}”列已重新填写",
        f"名录的“{RISK_LEVEL_COL.header}”列未被填写",
    )


def _functions(r: _Run, work: Path) -> str:
    path = work / "函数检查.xlsx"
    wb = openpyxl.Workbook()
    for row in FUNCTION_SHEET:
        wb.active.append(row)
    wb.save(path)
    book = r.open(path)
    sheet = book.sheets[0]
    cases = _function_cases()
    for cell, formula, _ in cases:
        sheet.range(cell).formula = formula
    r.app.calculate()
    wrong = [
        f"{cell} {formula} = {got!r}，引擎为 {want!r}"
        for cell, formula, want in cases
        if (got := sheet.range(cell).value) != want
    ]
    return expect(not wrong, f"{len(cases)} 个公式结果一致", "；".join(wrong))


def report_text(steps: list[Step], settings: SelftestSettings) -> str:
    """The pass/fail table as plain text (to attach to a support request)."""
    from addin.build import kam_version

    lines = [
        f"kam addin selftest  {settings.now:%Y-%m-%d %H:%M:%S}  kam {kam_version()}",
        f"加载项：{settings.addin}",
        "",
    ]
    lines += [f"[{'通过' if s.ok else '未通过'}] {s.name}：{s.detail}" for s in steps]
    passed = sum(s.ok for s in steps)
    lines += ["", f"通过 {passed} 项，未通过 {len(steps) - passed} 项"]
    return "\n".join(lines) + "\n"


def save_report(steps: list[Step], settings: SelftestSettings) -> Path:
    settings.report.parent.mkdir(parents=True, exist_ok=True)
    settings.report.write_text(report_text(steps, settings), encoding="utf-8")
    return settings.report


def selftest_refusal() -> Exception:
    from addin.install import DesktopExcelRequiredError

    return DesktopExcelRequiredError(
        "kam addin selftest 需要桌面版 Excel（Windows 或 macOS）：它会启动 Excel，"
        "逐一点击六个按钮并计算四个函数。本机没有 Excel，请在装有 Excel 的电脑上运行；"
        "本机可用 kam validate / tier / merge / risk / template 完成同样的工作。"
    )


def in_excel(settings: SelftestSettings, platform: str) -> list[Step]:
    """Run the selftest in a new Excel instance started through xlwings, then quit it."""
    if not platform.startswith(("win", "darwin")):
        raise selftest_refusal()
    import xlwings as xw  # only here: the rest of kam never imports xlwings

    app = xw.App(visible=True, add_book=False)  # a new instance: the user's Excel is untouched
    try:
        return run_selftest(app, settings)
    finally:
        with contextlib.suppress(Exception):
            app.quit()
