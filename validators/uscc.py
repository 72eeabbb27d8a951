"""`uscc_format` / `uscc_checksum`: 统一社会信用代码 per GB 32100-2015 (positions and check)."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import Kind
from kam.uscc import uscc_problem

FORMAT, CHECKSUM = "uscc_format", "uscc_checksum"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for data, f in ctx.fields(lambda f: f.kind is Kind.USCC):
        well_formed, checksum_ok = ctx.code_verdicts[data.form.id, f.id]
        values = data.frame[f.id]
        present = ctx.valid(data, f.id)
        bad_format = present & ~well_formed
        bad_sum = present & well_formed & ~checksum_ok  # a code stored as a number: `type` alone
        yield from data.emit(
            ctx.file,
            FORMAT,
            f.id,
            bad_format,
            per_row=lambda row, v=values: _reason(str(v.at[row])),
        )
        # The expected check character is not shown: users would type it over a mistake
        # elsewhere in the code, which the check then no longer catches.
        yield from data.emit(ctx.file, CHECKSUM, f.id, bad_sum)


def _reason(code: str) -> dict[str, str]:
    zh, en = uscc_problem(code) or ("", "")
    return {"reason": zh, "reason_en": en}
