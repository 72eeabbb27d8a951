"""`template_version`: the file was made from a template whose major version we do not know."""

from __future__ import annotations

from collections.abc import Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from kam.forms import INFO, TEMPLATE_VERSION

RULE = "template_version"


def major(version: str) -> str:
    return version.strip().lstrip("vV").split(".")[0]


def check(ctx: CheckContext) -> Iterator[Finding]:
    data = ctx.submission.sheets.get(INFO.id)
    version = ctx.submission.info("version")
    if data is None or version is None:
        return  # an empty 模板版本 is a `required` finding
    if major(str(version)) != major(TEMPLATE_VERSION):
        yield from data.emit(
            ctx.file,
            RULE,
            "version",
            data.frame["version"].notna(),
            {"expected": TEMPLATE_VERSION},
        )
