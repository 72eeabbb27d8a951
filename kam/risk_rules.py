"""The evidence of each DOMAIN §4 risk rule, found with vectorized pandas/numpy operations.

Every builder returns an evidence frame (one row per triggering source row, or per
customer for the customer-level rules) with the columns of EVIDENCE; kam.risk groups it
into one hit per (customer, rule). Evidence dated after the as-of date is never used, so
assessing an earlier as-of date gives what was known then. Rows whose 统一社会信用代码 is
not in the roster are ignored here (the validators report them as unknown_customer).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kam.forms import MAINT_METHOD, PAY_STATUS, RISK_LEVEL, RISK_TYPE, TIER, YES_NO, Form
from kam.rules import RiskRules

HIGH, MEDIUM, LOW = RISK_LEVEL.values
NO_RISK = "无"
RANK: dict[str, int] = {HIGH: 3, MEDIUM: 2, LOW: 1}
LEVEL_OF_RANK: tuple[str, ...] = (NO_RISK, LOW, MEDIUM, HIGH)
RULES: tuple[str, ...] = (
    "bankruptcy",
    "reported_risk",
    "overdue_payment",
    "leadership_change",
    "few_top_contacts",
    "no_contact",
    "open_issue_overdue",
    "unauthorised_contact",
)
GROUP_TIER = TIER.values[0]  # 集团级
BANKRUPTCY = RISK_TYPE.values[4]  # 破产征兆
LEADERSHIP = RISK_TYPE.values[0]  # 决策层变更
OVERDUE = PAY_STATUS.values[1]  # 逾期
TOP_METHOD = MAINT_METHOD.values[5]  # 高层互动
YES = YES_NO.values[0]
EVIDENCE = ("pos", "code", "rule", "rank", "detail", "form", "row", "field", "order")
"""pos = roster position (or -1 when keyed by code), order = sort key within a hit."""


@dataclass(frozen=True)
class Prepared:
    """The typed inputs, with customer-key codes (-1 = not a roster customer)."""

    as_of: np.datetime64  # day precision
    rules: RiskRules
    roster: pd.DataFrame  # + pos, code, group (bool), unit_key
    contracts: pd.DataFrame  # + code
    contacts: pd.DataFrame  # reception and maintenance rows: form, row, code, day, top
    maintenance: pd.DataFrame  # + code, day
    risk: pd.DataFrame  # + code, day, type, lvl


def text(values: pd.Series, *, fold: bool = False, upper: bool = False) -> pd.Series:
    """Stripped text (object dtype, None for blanks), cleaned once per distinct value.

    fold: also width-fold (NFKC) and drop every space, for comparing names and keys;
    upper: also upper-case (customer keys).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    s = pd.Series(np.asarray(uniques, dtype=object)).astype("str")
    s = s.str.normalize("NFKC").str.replace(r"\s+", "", regex=True) if fold else s.str.strip()
    s = s.str.upper() if upper else s
    s = s.where(s.str.len() > 0)
    mapped = np.append(s.to_numpy(object, na_value=None), None)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def key_codes(keys: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value's customer key in `keys` (-1 = blank or not in the roster).

    The reader already cleaned the keys, so exact matches are tried first and only the
    distinct values that miss are cleaned (hand-made frames may hold spaces or lower case).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    where = keys.get_indexer(pd.Index(uniques, dtype=object))
    miss = np.flatnonzero(where < 0)
    if len(miss):
        cleaned = pd.Index([key_text(uniques[i]) for i in miss], dtype=object)
        where[miss] = keys.get_indexer(cleaned)
    return np.append(where, -1)[codes]


def key_text(v: object) -> str | None:
    """A customer key for matching: width-folded, no spaces, upper case."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    return "".join(unicodedata.normalize("NFKC", str(v)).split()).upper() or None


def days(values: pd.Series) -> np.ndarray:
    """A date column as datetime64[D] (NaT for blanks and unreadable values)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, errors="coerce")
    return values.to_numpy().astype("datetime64[D]")


def iso(day: np.ndarray | pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD text ('日期未填' for NaT)."""
    s = pd.Series(np.asarray(day, dtype="datetime64[D]")).astype("datetime64[s]")
    return s.dt.strftime("%Y-%m-%d").fillna("日期未填").reset_index(drop=True)


def quarter_start(as_of: dt.date, quarters: int) -> dt.date:
    """First day of the quarter `quarters - 1` quarters before as-of's quarter."""
    q = (as_of.year * 4 + (as_of.month - 1) // 3) - (quarters - 1)
    return dt.date(q // 4, (q % 4) * 3 + 1, 1)


def _evidence(frame: pd.DataFrame, rule: str, **cols: object) -> pd.DataFrame:
    """An evidence frame from `frame`'s rows (positional), with the given columns."""
    out = pd.DataFrame(
        {
            "pos": frame["pos"].to_numpy() if "pos" in frame else -1,
            "code": frame["code"].to_numpy() if "code" in frame else -1,
            "rule": RULES.index(rule),  # kept as its number for sorting
            "row": frame.index.to_numpy(object),
        }
    )
    for name, value in cols.items():
        out[name] = value.to_numpy() if isinstance(value, pd.Series) else value
    return out.reindex(columns=list(EVIDENCE))


def _short(s: pd.Series, n: int = 30) -> pd.Series:
    s = s.fillna("").reset_index(drop=True)
    return s.where(s.str.len() <= n, s.str.slice(0, n) + "…")


def risk_reports(p: Prepared) -> list[pd.DataFrame]:
    """bankruptcy, reported_risk and leadership_change from the 风险分析报告 rows."""
    r = p.risk[p.risk["code"] >= 0]
    day = r["day"].to_numpy()
    known = np.isnat(day) | (day <= p.as_of)  # an undated bankruptcy report still counts
    start = np.datetime64(quarter_start(_date(p.as_of), p.rules.report_quarters), "D")
    recent = (day >= start) & (day <= p.as_of)
    kind = r["type"].to_numpy(object)
    leveled = r["lvl"].isin(list(RANK)).to_numpy()
    bankrupt = r[(kind == BANKRUPTCY) & known]
    reported = r[(kind != BANKRUPTCY) & r["type"].notna().to_numpy() & leveled & recent]
    leader = r[(r["type"] == LEADERSHIP).to_numpy() & recent]
    out = []
    for frame, rule, level, field in (
        (bankrupt, "bankruptcy", HIGH, "risk_type"),
        (reported, "reported_risk", None, "level"),
        (leader, "leadership_change", MEDIUM, "risk_type"),
    ):
        if frame.empty:
            continue
        lvl = frame["lvl"] if level is None else pd.Series(level, index=frame.index)
        desc = _short(text(frame["description"]))
        detail = (
            iso(frame["day"])
            + " 报告“"
            + frame["type"].reset_index(drop=True)
            + "”"
            + _bracketed(frame["lvl"])  # as reported (the evidence), whatever the rule gives
            + desc.where(desc == "", "：" + desc)
        )
        out.append(
            _evidence(
                frame,
                rule,
                rank=lvl.map(RANK).to_numpy(),
                detail=detail,
                form="risk",
                field=field,
                order=_latest_first(frame["day"].to_numpy()),
            )
        )
    return out


def _bracketed(level: pd.Series) -> pd.Series:
    shown = level.fillna("").reset_index(drop=True)
    return ("（" + shown + "）").where(shown != "", "")


def _latest_first(day: np.ndarray) -> np.ndarray:
    """A sort key putting the latest date first and blank dates last."""
    day = day.astype("datetime64[D]")
    return np.where(np.isnat(day), np.inf, -day.astype(np.int64).astype(np.float64))


def overdue_payment(p: Prepared) -> list[pd.DataFrame]:
    c = p.contracts
    d = c["overdue"].to_numpy()
    given = (c["code"].to_numpy() >= 0) & (d > 0)  # NaN days compare False
    c, d = c[given], d[given]
    late = (text(c["status"]) == OVERDUE).to_numpy(bool)
    c, d = c[late], d[late]
    if c.empty:
        return []
    r = p.rules
    rank = np.where(d > r.overdue_high_gt, 3, np.where(d > r.overdue_medium_gt, 2, 1))
    number = text(c["number"]).reset_index(drop=True)
    number = number.where(number.notna(), "（第 " + pd.Series(c.index).astype(str) + " 行）")
    whole = d == np.floor(d)
    shown = pd.Series(np.where(whole, d.astype(np.int64).astype(str), d.astype(str)), dtype=object)
    detail = "合同 " + number + " 逾期 " + shown + " 天"
    return [
        _evidence(
            c, "overdue_payment", rank=rank, detail=detail, form="contracts",
            field="overdue_days", order=-d,
        )
    ]  # fmt: skip


def contact_rules(p: Prepared) -> list[pd.DataFrame]:
    """no_contact for every customer, few_top_contacts for group customers."""
    r, as_of = p.rules, p.as_of
    c = p.contacts[(p.contacts["code"] >= 0).to_numpy()]
    day = c["day"].to_numpy()
    seen = c[day <= as_of]
    last = seen.groupby("code")["day"].max()
    since = as_of - np.timedelta64(r.no_contact_days, "D")
    recent = np.unique(seen["code"].to_numpy()[seen["day"].to_numpy() >= since])
    cust = p.roster
    quiet = cust[~np.isin(cust["code"].to_numpy(), recent)]
    out = []
    if not quiet.empty:
        when = iso(last.reindex(quiet["code"].to_numpy()).to_numpy())
        tail = ("（最近一次 " + when + "）").where(when != "日期未填", "（无任何记录）")
        detail = f"近 {r.no_contact_days} 天无接待或维护记录" + tail
        out.append(
            _evidence(quiet, "no_contact", rank=1, detail=detail, form="roster", field=None,
                      order=0.0)
        )  # fmt: skip
    top = seen[seen["top"].to_numpy()]
    # (as-of minus N months, as-of]: the N months' worth of days ending on as-of.
    start = np.datetime64(_months_back(_date(as_of), r.top_contact_months), "D")
    count = top[top["day"].to_numpy() > start].groupby("code").size()
    last_top = top.groupby("code")["day"].max()
    group = cust[cust["group"].to_numpy()]
    n = count.reindex(group["code"].to_numpy(), fill_value=0).to_numpy(int)
    few = group[n < r.top_contact_min]
    if not few.empty:
        n_few = pd.Series(n[n < r.top_contact_min]).astype(str)
        when = iso(last_top.reindex(few["code"].to_numpy()).to_numpy())
        tail = ("；最近一次 " + when).where(when != "日期未填", "；无高层接触记录")
        detail = (
            f"集团级客户近 {r.top_contact_months} 个月高层接触 "
            + n_few
            + f" 次（应至少 {r.top_contact_min} 次"
            + tail
            + "）"
        )
        out.append(
            _evidence(few, "few_top_contacts", rank=2, detail=detail, form="roster", field=None,
                      order=0.0)
        )  # fmt: skip
    return out


def maintenance_rules(p: Prepared) -> list[pd.DataFrame]:
    """open_issue_overdue and unauthorised_contact from the 维护管理登记表 rows."""
    m = p.maintenance
    day, code = m["day"].to_numpy(), m["code"].to_numpy()
    usable = (code >= 0) & (np.isnat(day) | (day <= p.as_of))
    out = []
    late_due = m["due"].to_numpy() < p.as_of  # NaT compares False
    open_ = m[usable & late_due]
    open_ = open_[(text(open_["closed"]) != YES).to_numpy(bool)]
    if not open_.empty:
        issue = text(open_["issue"])
        what = issue.where(issue.notna(), text(open_["summary"]))
        due = open_["due"].to_numpy()
        late = ((p.as_of - due) // np.timedelta64(1, "D")).astype(int)
        detail = (
            iso(open_["day"])
            + " 维护记录“"
            + _short(what)
            + "”响应时限 "
            + iso(due)
            + " 已过 "
            + pd.Series(late).astype(str)
            + " 天，未闭环"
        )
        out.append(
            _evidence(open_, "open_issue_overdue", rank=2, detail=detail, form="maintenance",
                      field="deadline", order=due.astype(np.int64).astype(np.float64))
        )  # fmt: skip
    group = p.roster[p.roster["group"].to_numpy() & p.roster["unit_key"].notna().to_numpy()]
    # Only the few rows of group customers are joined with their roster units.
    mine = usable & m["unit_key"].notna().to_numpy() & np.isin(code, group["code"].to_numpy())
    both = m[mine].reset_index(names="row_")
    both = both.merge(group[["pos", "code", "unit_key", "unit"]], on="code", suffixes=("", "_own"))
    both = both[(both["unit_key"] != both["unit_key_own"]).to_numpy()]
    if not both.empty:
        both = both.set_index("row_")
        detail = (
            iso(both["day"])
            + " 由“"
            + both["unit"].reset_index(drop=True)
            + "”维护（责任单位为“"
            + both["unit_own"].reset_index(drop=True)
            + "”）"
        )
        out.append(
            _evidence(both, "unauthorised_contact", rank=1, detail=detail, form="maintenance",
                      field="unit", order=_latest_first(both["day"].to_numpy()))
        )  # fmt: skip
    return out


def _date(day: np.datetime64) -> dt.date:
    return pd.Timestamp(day).date()


def _months_back(as_of: dt.date, months: int) -> dt.date:
    """as-of minus N months, same day (clamped to the month's last day)."""
    return (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()


def complete(frame: pd.DataFrame | None, form: Form) -> pd.DataFrame:
    """The frame with every data field of `form` (a missing column is all blank)."""
    frame = pd.DataFrame() if frame is None else frame
    missing = [f.id for f in form.data_fields if f.id not in frame.columns]
    if missing:
        frame = frame.assign(**{fid: pd.Series(None, index=frame.index, dtype=object)
                                for fid in missing})  # fmt: skip
    return frame
