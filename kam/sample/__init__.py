"""A realistic sample quarter of branch submissions, with every planted mistake recorded.

`make_quarter` builds the data (clean rows from kam.sample.quarter, mistakes from
kam.sample.mistakes, template drift from kam.sample.drift); `write_quarter` writes the
files with the product's own template writer. Validating the written files must report
exactly the `planted` findings of each file: that is what `kam demo` and the acceptance
tests rely on.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kam.forms import FORMS, FORMS_BY_ID, INFO, ROSTER
from kam.sample import names
from kam.sample.drift import RECIPES, CellEdit, Drift, apply_drift, plan_drift
from kam.sample.insight import plant_insight
from kam.sample.mistakes import edge_cases, expected_tier, plant_mistakes, tier_marks
from kam.sample.names import Registry
from kam.sample.quarter import (
    Draft,
    Mark,
    QuarterSettings,
    Shared,
    finish_branch,
    row_index,
    start_branch,
)
from kam.template import Layout, write_submission

__all__ = [
    "BranchFile",
    "CellEdit",
    "Drift",
    "Planted",
    "QuarterSettings",
    "clean_index",
    "expected_tier",
    "make_quarter",
    "write_quarter",
]


@dataclass
class Planted:
    """One planted mistake (or tolerated drift) and the finding it must produce."""

    sheet: str | None  # sheet name (from the Form); None for a file that is not a workbook
    row: int | None  # 1-based sheet row in the written file (None = file or sheet level)
    field: str | None  # field id
    rule: str  # rule id of DOMAIN §6 expected to fire at that cell
    value: object = field(default=None, compare=False)  # what that cell holds in the file


@dataclass
class BranchFile:
    """One file of the quarter: what was written, what was planted, how it drifted."""

    branch: str
    filename: str
    info: dict[str, object]  # INFO field id -> value
    rows: dict[str, list[dict[str, object]]]  # form id -> rows (field id -> raw value)
    planted: list[Planted]
    drift: Drift | None  # how the file was edited away from the template

    @property
    def unreadable(self) -> bool:
        """True for the file that is not a workbook at all."""
        return any(p.rule == "unreadable" for p in self.planted)


def clean_index(branches: int) -> int:
    """The branch whose file stays perfectly clean (it also carries the boundary cases)."""
    return min(3, branches - 1)


def _shared(rng: random.Random, settings: QuarterSettings, registry: Registry) -> list[Shared]:
    """A few state-owned group customers, each claimed by two branches."""
    out: list[Shared] = []
    for _ in range(min(3, settings.branches // 2)):
        a, b = rng.sample(names.BRANCHES[: settings.branches], 2)
        while True:
            co, code = registry.company(rng, names.CITIES[rng.choice(a[2])])
            if co.nature == names.SOE:
                break
        out.append(Shared(co, code, a[0], (a[0], b[0])))
    return out


def make_quarter(settings: QuarterSettings) -> list[BranchFile]:
    """The quarter's files in branch order (plus the unreadable one when mistakes are on)."""
    rng = random.Random(f"kam-sample-{settings.seed}")
    registry = Registry()
    shared = _shared(rng, settings, registry)
    clean = clean_index(settings.branches)
    drafts: list[Draft] = []
    for i in range(settings.branches):
        draft, customers = start_branch(settings, i, registry, shared, rng)
        if i == clean:
            edge_cases(rng, draft, customers)
        drafts.append(finish_branch(rng, draft, customers))
    # Mistakes draw from their own stream: the clean data is the same with or without them.
    mrng = random.Random(f"kam-sample-mistakes-{settings.seed}")
    dirty = [d for i, d in enumerate(drafts) if i != clean]
    if settings.mistakes:
        plant_mistakes(mrng, dirty)
        plant_insight(random.Random(f"kam-sample-insight-{settings.seed}"), drafts, clean)
    for d in drafts:
        tier_marks(d)
    recipes: dict[int, int] = {}
    if settings.mistakes:
        eligible = [d for d in dirty if not d.removed_sheets and not d.removed_columns]
        count = min(len(eligible), len(RECIPES), max(1, (settings.branches * 3 + 4) // 8))
        recipes = {id(d): n for n, d in enumerate(mrng.sample(eligible, count))}
    files = [_finish(d, plan_drift(mrng, d, recipes.get(id(d)))) for d in drafts]
    if settings.mistakes:
        name = f"{names.FAKE_BRANCH}_{settings.quarter}.xlsx"
        files.append(
            BranchFile(
                names.FAKE_BRANCH, name, {}, {}, [Planted(None, None, None, "unreadable")], None
            )
        )
    return files


def _planted(d: Draft, m: Mark, drift: Drift | None) -> Planted:
    sheet = FORMS_BY_ID[m.form].sheet
    if m.row is not None:
        header = drift.header_row(m.form) if drift else 1
        return Planted(
            sheet, header + 1 + row_index(d.rows[m.form], m.row), m.field, m.rule, m.value
        )
    if m.form == INFO.id and m.field is not None:
        return Planted(sheet, INFO.fields.index(INFO[m.field]) + 1, m.field, m.rule, m.value)
    return Planted(sheet, None, m.field, m.rule, m.value)


def _drift_planted(drift: Drift) -> list[Planted]:
    """A `normalized` per retyped header or cell, an `unknown_column` per extra column."""
    out = []
    for form, heads in drift.headers.items():
        row = drift.header_row(form)
        out += [Planted(FORMS_BY_ID[form].sheet, row, f, "normalized", t) for f, t in heads.items()]
    for e in drift.cells:
        row = drift.header_row(e.form) + 1 + e.index
        out.append(Planted(FORMS_BY_ID[e.form].sheet, row, e.field, "normalized", e.value))
    for form, (header, _, _) in drift.extra_columns.items():
        row = drift.header_row(form)  # the finding marks the extra column's header cell
        out.append(Planted(FORMS_BY_ID[form].sheet, row, None, "unknown_column", header))
    return out


_SHEET_ORDER = {f.sheet: i for i, f in enumerate(FORMS)}


def _order(p: Planted) -> tuple[int, int, int, str]:
    form = next((f for f in FORMS if f.sheet == p.sheet), None)
    column = form.fields.index(form[p.field]) if form and p.field in form else -1
    return (_SHEET_ORDER.get(p.sheet or "", -1), p.row or 0, column, p.rule)


def _finish(d: Draft, drift: Drift | None) -> BranchFile:
    planted = [_planted(d, m, drift) for m in d.marks]
    if drift is not None:
        planted += _drift_planted(drift)
    planted.sort(key=_order)
    name = f"{d.branch}_{d.settings.quarter}.xlsx"
    return BranchFile(d.branch, name, d.info, d.rows, planted, drift)


def _fake_csv(settings: QuarterSettings) -> bytes:
    """What a branch sends when it saves the roster as CSV and renames it .xlsx."""
    rng = random.Random(f"kam-sample-csv-{settings.seed}")
    lines = [",".join(f.header for f in ROSTER.data_fields)]
    for _ in range(5):
        co = names.company(rng, names.CITIES["武汉"])
        lines.append(f"{co.name},,{co.nature},{co.industry},项目级,{names.FAKE_BRANCH},,,,否,,")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


SAMPLE_LAYOUT = Layout(data_rows=500)
"""Sample files carry dropdowns and the tier formula on 500 rows, not the template's
5000: writing 5000 formulas per file would make `kam demo` wait half a minute."""


def write_quarter(out_dir: Path, settings: QuarterSettings) -> list[tuple[Path, BranchFile]]:
    """Write every file of the quarter into out_dir; returns (path, file record) pairs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, BranchFile]] = []
    for bf in make_quarter(settings):
        path = out_dir / bf.filename
        if bf.unreadable:
            path.write_bytes(_fake_csv(settings))
        elif bf.drift is None:
            write_submission(path, bf.info, bf.rows, layout=SAMPLE_LAYOUT)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                template = write_submission(
                    Path(tmp) / bf.filename, bf.info, bf.rows, layout=SAMPLE_LAYOUT
                )
                apply_drift(template, path, bf.drift)
        written.append((path, bf))
    return written
