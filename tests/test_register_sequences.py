"""Sequences of merges (DOMAIN §5): renamed, resubmitted, corrected and repeated files.

After each merge the register holds, per sheet, exactly the rows of the newest file of each
(branch, quarter) ever seen, every run reconciles per file and in total, and a run whose
inbox holds every surviving file reports as merged what the register holds.

The default profile runs a few dozen sequences; `HYPOTHESIS_PROFILE=register-500` runs the
500 the contract asks for (about ten minutes on a shared two-core machine).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from builders import card_row
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_merge import CODES, customer, deal, info, sheet_rows, submit
from test_register_cache import assert_cache_matches_book

from kam.forms import CARDS, CONTRACTS
from kam.register import MergeSettings, merge
from kam.register.columns import REG_ROSTER, SOURCES

settings.register_profile(
    "register-500",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE")
EXAMPLES = 500 if PROFILE == "register-500" else 20

BRANCHES = ("华东分公司", "华南分公司")
DATES = (dt.datetime(2026, 10, 10), dt.datetime(2026, 10, 12))
NAMES = ("{b}_2026Q3.xlsx", "{b}_2026Q3(修订).xlsx", "报送/{b}.xlsx", "z-{b}.xlsx")


@dataclass(frozen=True)
class Variant:
    """One workbook: a branch's version (contracts good/bad/duplicate) and 报送日期."""

    branch: int
    version: int
    date: int

    @property
    def good(self) -> int:
        return self.version + 1  # contracts that merge

    @property
    def sheets(self) -> Counter[str]:
        return Counter({REG_ROSTER.sheet: 1, CONTRACTS.sheet: self.good, CARDS.sheet: 1})


def _write(folder: Path, v: Variant) -> Path:
    unit = BRANCHES[v.branch]
    code = CODES[30 + v.branch]
    contracts = [deal(code, f"HT-{v.branch}-{i}", 6000.0 + v.version) for i in range(v.good)]
    if v.version == 1:
        contracts.append(deal(code, "HT-bad", amount=0.0))  # rejected
    if v.version == 2:
        contracts.append(dict(contracts[0]))  # an exact duplicate
    path = folder / f"{v.branch}-{v.version}-{v.date}.xlsx"
    rows = {
        "roster": [customer(code, unit)],
        "contracts": contracts,
        "cards": [card_row(uscc=code)],
    }
    return submit(path, info(unit, submitted_on=DATES[v.date]), rows)


VARIANT = st.builds(Variant, st.integers(0, 1), st.integers(0, 2), st.integers(0, 1))
DROP = st.sets(st.integers(0, 5), max_size=2)
STEP = st.tuples(
    st.lists(st.tuples(VARIANT, st.integers(0, len(NAMES) - 1)), min_size=1, max_size=3), DROP
)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> dict[Variant, Path]:
    folder = tmp_path_factory.mktemp("pool")
    return {
        v: _write(folder, v)
        for v in (Variant(b, n, d) for b in range(2) for n in range(3) for d in range(2))
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking a merge run is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_merge_sequences_hold_the_newest_file_and_reconcile(
    tmp_path_factory: pytest.TempPathFactory,
    pool: dict[Variant, Path],
    steps: list[tuple[list[tuple[Variant, int]], set[int]]],
) -> None:
    tmp = tmp_path_factory.mktemp("seq")
    inbox, register = tmp / "in", tmp / "reg" / "集团大客户名录.xlsx"
    inbox.mkdir()
    clock = 1_700_000_000  # every copy is newer than the one before (no ties)
    first_seen: dict[Variant, tuple[int, int]] = {}  # stamp as the register records it
    holder: dict[int, Variant] = {}  # branch -> the variant whose rows the register holds
    for added, drop in steps:
        present = sorted(p for p in inbox.rglob("*.xlsx"))
        for i in sorted(drop):
            if i < len(present):
                present[i].unlink()
        for v, n in added:
            target = inbox / NAMES[n].format(b=BRANCHES[v.branch])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pool[v], target)
            clock += 10
            os.utime(target, (clock, clock))
        # The merge reads files in relative-path order and records a file's stamp once.
        files = sorted(inbox.rglob("*.xlsx"), key=lambda p: p.relative_to(inbox).as_posix())
        for p in files:
            first_seen.setdefault(_variant(pool, p), (_variant(pool, p).date, p.stat().st_mtime))
        in_inbox = {_variant(pool, p) for p in files}
        for b in range(2):
            contenders = [v for v in in_inbox if v.branch == b]
            if b in holder:
                contenders.append(holder[b])
            if contenders:
                holder[b] = max(contenders, key=lambda v: first_seen[v])
        result = merge(MergeSettings(register=register, inbox=inbox, today=dt.date(2026, 10, 20)))
        for f in result.files:
            assert f.rows_in == f.merged + f.rejected + f.duplicate, f
        t = result.totals
        assert t["rows_in"] == t["merged"] + t["rejected"] + t["duplicate"]
        held = Counter[str]()
        for v in holder.values():
            held.update(v.sheets)
        for sheet in (REG_ROSTER.sheet, CONTRACTS.sheet, CARDS.sheet):
            assert len(sheet_rows(register, sheet)) == held[sheet], sheet
        sources = sheet_rows(register, SOURCES.sheet)
        alive = [s for s in sources if s["状态"] in ("merged", "partial")]
        assert sum(int(s["合并"]) for s in alive) == sum(held.values())
        if set(holder.values()) <= in_inbox:
            assert t["merged"] == sum(held.values())
        assert_cache_matches_book(register)  # what the next merge reads is the book's


def _variant(pool: dict[Variant, Path], path: Path) -> Variant:
    data = path.read_bytes()
    return next(v for v, p in pool.items() if p.read_bytes() == data)
