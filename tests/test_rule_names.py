"""Rule ids are shown by Chinese names where people read; English mode reads tier reasons too."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from kam.messages import RULE_IDS
from kam.reason_en import reason_en
from kam.risk_rules import RULES as RISK_RULES
from kam.rule_names import RULE_NAMES, rule_name
from kam.rules import Rules, TierRules
from kam.tiers import compute_tiers

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_rule_id_has_a_distinct_chinese_name() -> None:
    ids = (*RULE_IDS, *RISK_RULES)
    assert set(ids) == set(RULE_NAMES)
    assert len(set(RULE_NAMES.values())) == len(RULE_NAMES)
    for rule in ids:
        assert CJK.search(rule_name(rule)) and rule_name(rule, "en") == rule


CUSTOMERS = pd.DataFrame(
    {
        "uscc": ["A1", "B2", "C3", None, "E5"],
        "strategic": ["否", "是", "否", "否", "否"],
    }
)
CONTRACTS = pd.DataFrame(
    {
        "uscc": ["A1", "A1", "A1", "C3", "E5"],
        "contract_no": ["HT-1", "HT-2", "HT-3", None, "HT-9"],
        "signed_on": pd.to_datetime(
            ["2024-01-05", "2025-02-01", "2023-03-03", "2025-05-05", "2015-01-01"]
        ),
        "amount": [25000.0, 30000.0, 21000.0, 6000.0, 9000.0],
    }
)


@pytest.mark.parametrize("scheme", ["default", "pareto", "threshold"])
def test_english_tier_reasons_have_no_chinese_left(scheme: str) -> None:
    rules = Rules(tier=TierRules(scheme=scheme)).tier
    reasons = compute_tiers(CUSTOMERS, CONTRACTS, dt.date(2026, 9, 30), rules)["reason"]
    assert reasons.map(lambda r: bool(CJK.search(r))).all()  # they are built in Chinese
    english = [reason_en(r) for r in reasons]
    assert not [r for r in english if CJK.search(r)], english
    assert any("HT-" in r for r in english) or scheme != "default"
