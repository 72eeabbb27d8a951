"""Rules-file mistakes are said in Chinese, name the key and suggest the key meant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kam.errors import RulesFileError
from kam.rules import load_rules

CASES = {
    "[tier.default]\nwindow_year = 3\n": ("tier.default.window_year", "是否想写 window_years？"),
    "[tier.default]\nwindow_years = 0\n": ("tier.default.window_years", "应不小于 1"),
    '[tier.default]\nwindow_years = "五"\n': ("tier.default.window_years", "应为整数"),
    '[tier]\nscheme = "abc"\n': ("tier.scheme", "“default” / “pareto” / “threshold”"),
    "[risk]\noverdue_medium_gt = 100\n": ("overdue_medium_gt", "应小于 overdue_high_gt"),
    "[risks]\nno_contact_days = 30\n": ("risks", "是否想写 risk？"),
    '[merge]\nbranches = "华东分公司"\n': ("merge.branches", "应为列表"),
    "[tier.default\nwindow_years = 3\n": ("第 1 行", "不是有效的 TOML"),
}


@pytest.mark.parametrize("text", CASES)
def test_rules_file_errors_are_chinese_and_name_the_key(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError) as caught:
        load_rules(path)
    said = str(caught.value)
    key, hint = CASES[text]
    assert key in said and hint in said and str(path) in said
    # No pydantic or TOML English: the only Latin words are key names, values and the path.
    english = set(re.findall(r"[A-Za-z]{3,}", said.replace(str(path), "")))
    assert english <= {"window", "year", "years", "default", "tier", "scheme", "abc", "pareto",
                       "threshold", "overdue", "medium", "high", "risk", "risks", "contact", "days",
                       "merge", "branches", "TOML"}, english  # fmt: skip
