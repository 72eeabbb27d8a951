"""Shared test policy: tests marked `libreoffice` need soffice (and poppler's pdf tools).

Locally they are skipped, with the reason, when LibreOffice is missing. CI sets
KAM_REQUIRE_LIBREOFFICE=1 (.ci/run): there a missing LibreOffice fails those tests instead,
so a broken CI image cannot pass by skipping them.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ENV = "KAM_REQUIRE_LIBREOFFICE"
TOOLS = ("soffice", "pdfinfo", "pdftoppm", "pdftotext")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "libreoffice: needs LibreOffice and poppler-utils (skipped locally if absent)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("libreoffice") is None:
        return
    missing = missing_tools()
    if not missing:
        return
    what = "、".join(missing)
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(
            f"{REQUIRE_ENV}=1 but {what} not found: install libreoffice-calc and poppler-utils"
        )
    pytest.skip(
        f"LibreOffice test skipped: {what} not installed (apt-get install libreoffice-calc-nogui "
        f"poppler-utils; CI sets {REQUIRE_ENV}=1 and fails instead)"
    )
