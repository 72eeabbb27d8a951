"""Read + validate throughput on a large submission, against a naive per-row baseline.

Workload (issue 3): one submission with a 10,000-row roster, 50,000 contracts and 100,000
log rows. The baseline is what a competent first version would do: openpyxl normal load,
then one pydantic `model_validate` per row. Both run in this process, on the same file.

    python benchmarks/validate.py [--scale 1.0] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl
from pydantic import BaseModel, ValidationError, create_model

from kam.forms import TABLE_FORMS, Kind
from kam.template import Layout, write_submission
from kam.uscc import make_uscc
from kam.validate import ValidateSettings, validate_file

TODAY = dt.date(2026, 10, 15)


def workload(scale: float) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(7)
    n_roster, n_contracts, n_logs = (int(n * scale) for n in (10_000, 50_000, 100_000))
    codes = [make_uscc(rng) for _ in range(n_roster)]
    day = dt.datetime(2022, 1, 1)
    roster = [
        {
            "name": f"示例建设投资有限公司{i:05d}",
            "uscc": c,
            "nature": "国有企业",
            "tier": "项目级",
            "unit": "华东分公司",
            "owner": "李强",
            "phone": f"138{i:08d}",
            "strategic": "否",
            "listed_on": day,
        }
        for i, c in enumerate(codes)
    ]
    contracts = [
        {
            "uscc": codes[i % n_roster],
            "contract_no": f"HT-{i:07d}",
            "project": "综合管廊工程",
            "signed_on": day + dt.timedelta(days=i % 1500),
            "amount": float(rng.randint(100, 30000)),
            "pay_status": "按时",
            "receivable": 10.0,
        }
        for i in range(n_contracts)
    ]
    half = n_logs // 2
    reception = [
        {
            "date": day + dt.timedelta(days=i % 1500),
            "uscc": codes[i % n_roster],
            "visitor": "张总",
            "host": "王敏",
            "top_level": "否",
            "purpose": "商务洽谈",
        }
        for i in range(half)
    ]
    maintenance = [
        {
            "date": day + dt.timedelta(days=i % 1500),
            "uscc": codes[i % n_roster],
            "method": "拜访",
            "unit": "华东分公司",
            "summary": "季度走访",
            "owner": "李强",
            "closed": "否",
        }
        for i in range(n_logs - half)
    ]
    card = {
        "address": "上海市浦东新区世纪大道 100 号",
        "business": "城市基础设施投资",
        "org_chain": "董事会—总经理—基建部",
        "contact": "陈总",
        "contact_title": "副总经理",
        "contact_phone": "13912345678",
        "history": "2019 年起合作",
        "needs": "工期要求高",
        "risks": "无",
    }
    cards = [{"uscc": c, **card} for c in codes]
    return {
        "roster": roster,
        "contracts": contracts,
        "reception": reception,
        "maintenance": maintenance,
        "cards": cards,
    }


PY_TYPES = {Kind.DATE: dt.date, Kind.NUMBER: float, Kind.INTEGER: int}


def naive_models() -> dict[str, type[BaseModel]]:
    models = {}
    for form in TABLE_FORMS:
        fields: dict[str, Any] = {
            f.header: (PY_TYPES.get(f.kind, str) | None, None) for f in form.data_fields
        }
        models[form.sheet] = create_model(f"Naive_{form.id}", **fields)
    return models


def naive(path: Path) -> int:
    """openpyxl normal load + one pydantic model_validate per row."""
    models = naive_models()
    wb = openpyxl.load_workbook(path)
    rows = 0
    for sheet, model in models.items():
        it = wb[sheet].iter_rows(values_only=True)
        header = next(it)
        for values in it:
            if all(v is None for v in values):
                continue
            record = {h: v for h, v in zip(header, values, strict=False) if h in model.model_fields}
            with contextlib.suppress(ValidationError):
                model.model_validate(record)
            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3, help="runs of kam (median reported)")
    args = parser.parse_args()
    rows = workload(args.scale)
    n = sum(len(v) for k, v in rows.items() if k != "cards") + len(rows["cards"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.xlsx"
        info = {
            "unit": "华东分公司",
            "quarter": "2026Q3",
            "filler": "王敏",
            "phone": "021-62345678",
            "submitted_on": dt.datetime(2026, 10, 10),
            "version": "1.0",
        }
        t = time.perf_counter()
        write_submission(path, info, rows, layout=Layout(data_rows=10))
        print(
            f"workload: {n:,} data rows, file {path.stat().st_size / 2**20:.1f} MiB, "
            f"written in {time.perf_counter() - t:.1f} s"
        )
        # This machine's speed drifts by a third from minute to minute (it is shared): the
        # median of a few runs, each shown, says more than one run.
        runs = []
        for _ in range(args.runs):
            t = time.perf_counter()
            report = validate_file(path, ValidateSettings(today=TODAY))
            runs.append(time.perf_counter() - t)
        ours = statistics.median(runs)
        print(
            f"kam read+validate: {ours:.2f} s (median of {', '.join(f'{r:.2f}' for r in runs)}), "
            f"{n / ours:,.0f} rows/s, {len(report.findings)} findings"
        )
        t = time.perf_counter()
        counted = naive(path)
        base = time.perf_counter() - t
        print(f"naive openpyxl + pydantic per row: {base:.2f} s, {counted / base:,.0f} rows/s")
        print(f"ratio: {base / ours:.1f}x faster than the naive baseline")


if __name__ == "__main__":
    main()
