"""English for the one-line tier reasons (they are built in Chinese, DOMAIN §3), for --lang en.

The reasons are made from a few fixed phrases around numbers, contract numbers and dates;
each phrase is replaced here, in order, and the data (contract numbers, tier labels) is kept.
"""

from __future__ import annotations

import re

_PHRASES: tuple[tuple[str, str], ...] = (
    (r"签订战略合作协议", "strategic cooperation agreement signed"),
    (r"未填统一社会信用代码，无法匹配合同", "no USCC given, so no contract can be matched"),
    (r"(\d+) 份合同 ([>≥]) ([\d.]+) 万元: ", r"\1 contract(s) \2 \3 (10k CNY): "),
    (r"近 (\d+) 年无 ≥ ([\d.]+) 万元的合同", r"no contract ≥ \2 (10k CNY) in the last \1 years"),
    (r" 等 (\d+) 份", r" (\1 in all)"),
    (
        r"近 (\d+) 年合同额 ([\d.]+) 万元，占 ([\d.]+%)，",
        r"contracts of the last \1 years \2 (10k CNY), \3 of the total, ",
    ),
    (
        r"排名第 (\d+)/(\d+)，排在前面的客户累计 ([\d.]+%)，",
        r"rank \1/\2, customers ranked above hold \3, ",
    ),
    (r"已达 ([\d.]+%)、未达 ([\d.]+%)，属 (\S+) 类", r"within \1-\2: class \3"),
    (r"未达 ([\d.]+%)，属 (\S+) 类", r"below \1: class \2"),
    (r"已达 ([\d.]+%)，属 (\S+) 类", r"beyond \1: class \2"),
    (r"近 (\d+) 年无合同额", r"no contract amount in the last \1 years"),
    (r"近 (\d+) 年无合同", r"no contract in the last \1 years"),
    (r"近 (\d+) 年最大单份合同 ", r"largest contract of the last \1 years "),
    (r"近 (\d+) 年合同总额 ", r"total of the last \1 years' contracts "),
    (r"（(\d+) 份）", r" (\1 contracts)"),
    (r" 万元", " (10k CNY)"),
)
_COMPILED = tuple((re.compile(p), r) for p, r in _PHRASES)


def reason_en(reason: object) -> object:
    """A tier reason in English (anything else, e.g. None, as it is)."""
    if not isinstance(reason, str):
        return reason
    for pattern, replacement in _COMPILED:
        reason = pattern.sub(replacement, reason)
    return reason
