"""统一社会信用代码 (USCC) per GB 32100-2015: structure, check character, vectorized masks.

Layout of the 18 characters (GB 32100-2015 §4):
  1     登记管理部门代码 (registration department)
  2     机构类别代码 (category, allowed values depend on the department)
  3-8   登记管理机关行政区划码 (6 digits, GB/T 2260)
  9-17  主体标识码 / 组织机构代码 (GB 11714)
  18    校验码, computed over 1-17 with GB/T 17710 (ISO 7064 MOD 31-3 style weights)

Every character comes from the 31-character code alphabet: digits and upper-case letters
without I, O, S, V, Z.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The GB 32100-2015 code alphabet; a character's value is its index here."""

WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of positions 1-17 (3**i mod 31), GB 32100-2015 §5."""

# Department -> allowed category digits.
# 1 机构编制 (1 机关, 2 事业单位, 3 编办直管群众团体, 9 其他), 5 民政 (1 社会团体, 2 民办非企业
# 单位, 3 基金会, 9 其他), 9 工商 (1 企业, 2 个体工商户, 3 农民专业合作社) and Y 其他 (1 only)
# are in the 2015 text. The code authority later assigned 2 外交 (1, 9), 3 司法行政 (1 律师执业
# 机构, 2 公证处, 3 基层法律服务所, 4 司法鉴定机构, 5 仲裁委员会, 9), 4 文化 (1, 9), 6 旅游
# (1, 2, 9), 7 宗教 (1 活动场所, 2 院校, 9), 8 工会 (1 基层工会, 9), A 中央军委改革和编制办公室
# (1, 9) and N 农业 (1 组级, 2 村级, 3 乡镇级集体经济组织, 9). Real customers carry these codes
# (law firms 31…, trade unions 81…, rural collectives N2…), so all twelve are accepted:
# rejecting them would reject genuine licences.
CATEGORIES: dict[str, str] = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}

_VALUE = {c: i for i, c in enumerate(CODE_ALPHABET)}

# GB 11714 organization code: 8 body characters + a mod-11 check (used to make realistic codes).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_REGIONS = ("110105", "110108", "310115", "320500", "330100", "350100", "420100", "440300")


def uscc_problem(code: str) -> tuple[str, str] | None:
    """The first structural problem of an (already upper-cased) code as (zh, en), or None."""
    if len(code) != 18:
        return (f"应为 18 位，实为 {len(code)} 位", f"must be 18 characters, not {len(code)}")
    for i, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            return (
                f"第 {i} 位“{ch}”不是允许的字符（数字或除 I、O、S、V、Z 外的大写字母）",
                f"character {i} '{ch}' is not allowed (digits and capitals except I, O, S, V, Z)",
            )
    dept, cat = code[0], code[1]
    if dept not in CATEGORIES:
        allowed = "、".join(CATEGORIES)
        return (
            f"第 1 位登记管理部门代码“{dept}”无效（应为 {allowed}）",
            f"registration department '{dept}' is not one of {', '.join(CATEGORIES)}",
        )
    if cat not in CATEGORIES[dept]:
        allowed = "、".join(CATEGORIES[dept])
        return (
            f"第 2 位机构类别代码“{cat}”不适用于登记管理部门“{dept}”（应为 {allowed}）",
            f"category '{cat}' is not valid for department '{dept}' (allowed: {allowed})",
        )
    region = code[2:8]
    if not region.isdigit():
        return (
            f"第 3-8 位行政区划码“{region}”应为 6 位数字",
            f"region code '{region}' (characters 3-8) must be 6 digits",
        )
    return None


def uscc_check_char(code17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    if len(code17) != 17 or any(ch not in _VALUE for ch in code17):
        raise ValueError(f"需要 17 位代码字符：{code17!r}")
    total = sum(_VALUE[ch] * w for ch, w in zip(code17, WEIGHTS, strict=True))
    return CODE_ALPHABET[(31 - total % 31) % 31]


def uscc_ok(code: str) -> bool:
    """True when the code is well formed and its check character is right."""
    return (
        isinstance(code, str)
        and uscc_problem(code) is None
        and uscc_check_char(code[:17]) == code[17]
    )


def uscc_masks(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(well formed, well formed with the right check character) per value; blanks are neither.

    The same tests as uscc_problem() and uscc_ok(), on all codes at once in numpy.
    """
    values = s.to_numpy(dtype=object)
    rows = np.flatnonzero([isinstance(v, str) and len(v) == 18 for v in values])
    fmt = np.zeros(len(values), dtype=bool)
    ok = np.zeros(len(values), dtype=bool)
    if len(rows):
        points = np.array(values[rows].tolist(), dtype="<U18").view(np.uint32).reshape(-1, 18)
        digits = np.where(points < 128, _ALPHABET_VALUE[np.minimum(points, 127)], -1)
        well = (digits >= 0).all(axis=1)
        well &= _DEPT_CATEGORY[digits[:, 0], digits[:, 1]]  # -1 is the table's last row: False
        well &= (digits[:, 2:8] < 10).all(axis=1)  # the region: values 0-9 are the digits
        check = (31 - (digits[:, :17] @ np.asarray(WEIGHTS)) % 31) % 31
        fmt[rows] = well
        ok[rows] = well & (check == digits[:, 17])
    return pd.Series(fmt, index=s.index), pd.Series(ok, index=s.index)


def column_masks(columns: list[pd.Series]) -> list[tuple[pd.Series, pd.Series]]:
    """uscc_masks() of each column; codes the columns share are checked once.

    The sheets of one workbook repeat the same codes.
    """
    if not columns:
        return []
    values = [c.to_numpy(dtype=object) for c in columns]
    codes, distinct = pd.factorize(np.concatenate(values))
    fmt = np.zeros(len(distinct) + 1, dtype=bool)  # the last slot: blanks (code -1)
    ok = np.zeros(len(distinct) + 1, dtype=bool)
    if len(distinct):
        well_formed, checksum_ok = uscc_masks(pd.Series(distinct, dtype=object))
        fmt[:-1] = well_formed.to_numpy(dtype=bool)
        ok[:-1] = checksum_ok.to_numpy(dtype=bool)
    parts = np.split(codes, np.cumsum([len(v) for v in values])[:-1])
    return [
        (pd.Series(fmt[part], index=c.index), pd.Series(ok[part], index=c.index))
        for c, part in zip(columns, parts, strict=True)
    ]


def uscc_format_mask(s: pd.Series) -> pd.Series:
    """True where the value is a well-formed code (structure only); False for blanks/non-text."""
    return uscc_masks(s)[0]


def uscc_checksum_mask(s: pd.Series) -> pd.Series:
    """True where the value is well formed and its check character is right."""
    return uscc_masks(s)[1]


def _alphabet_values() -> np.ndarray:
    table = np.full(128, -1, dtype=np.int64)
    table[[ord(c) for c in CODE_ALPHABET]] = np.arange(len(CODE_ALPHABET))
    return table


def _dept_categories() -> np.ndarray:
    # One row and column more than the alphabet: value -1 (not a code character) lands there.
    table = np.zeros((len(CODE_ALPHABET) + 1, len(CODE_ALPHABET) + 1), dtype=bool)
    for dept, cats in CATEGORIES.items():
        for cat in cats:
            table[_VALUE[dept], _VALUE[cat]] = True
    return table


_ALPHABET_VALUE = _alphabet_values()
_DEPT_CATEGORY = _dept_categories()


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    # GB 11714 values letters A=10 ... Z=35 over the full Latin alphabet.
    value = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
    total = sum(value[ch] * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(rng: random.Random | int | None = None, *, dept: str | None = None) -> str:
    """A valid random code (mostly 91… enterprises) for sample data and tests."""
    r = rng if isinstance(rng, random.Random) else random.Random(rng)
    if dept is None:
        dept = "9" if r.random() < 0.8 else r.choice(sorted(CATEGORIES))
    cat = "1" if dept == "9" and r.random() < 0.9 else r.choice(CATEGORIES[dept])
    region = r.choice(_REGIONS)
    if r.random() < 0.5:
        body = "MA" + "".join(r.choice(CODE_ALPHABET) for _ in range(6))
    else:
        body = "".join(r.choice("0123456789") for _ in range(8))
    code17 = f"{dept}{cat}{region}{body}{_org_check(body)}"
    return code17 + uscc_check_char(code17)
