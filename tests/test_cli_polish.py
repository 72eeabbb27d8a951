"""CLI conventions for people: no overwrites, JSON on every exit, Chinese help, --lang anywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from builders import DEFAULT_ROWS, GOOD_USCC, INFO_OK
from test_cli import SMALL, kam

from kam.template import write_submission


def test_template_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "t"
    first = kam("template", "--out", str(out))
    assert first.returncode == 0, first.stderr
    template = out / "分公司季度报送模板.xlsx"
    template.write_bytes(b"a branch's filled template")
    again = kam("template", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert template.read_bytes() == b"a branch's filled template"
    copy = out / "分公司季度报送模板(2).xlsx"
    assert copy.stat().st_size > 10_000
    assert "未改动" in again.stdout and copy.name in again.stdout.replace("\n", "")
    third = kam("template", "--out", str(out))
    assert (out / "分公司季度报送模板(3).xlsx").exists() and third.returncode == 0
    forced = kam("template", "--out", str(out), "--force")
    assert forced.returncode == 0 and template.read_bytes() != b"a branch's filled template"
    assert not (out / "分公司季度报送模板(4).xlsx").exists()


def merged_register(tmp_path: Path, rows: dict | None = None) -> Path:
    """A register made by `kam merge` from one clean submission."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_submission(inbox / "华东.xlsx", INFO_OK, rows or DEFAULT_ROWS, layout=SMALL)
    register = tmp_path / "集团大客户名录.xlsx"
    done = kam("merge", str(inbox), "--register", str(register), "--json", "--today", "2026-10-15")
    assert done.returncode == 0, done.stderr
    return register


def test_validate_on_a_register_points_to_risk_and_kpi_and_tier_accepts_it(tmp_path: Path) -> None:
    register = merged_register(tmp_path)
    done = kam("validate", str(register))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    said = done.stderr.replace("\n", "")
    assert "集团大客户名录" in said and "kam risk" in said and "kam kpi" in said
    tiers = kam("tier", str(register), "--json")
    assert tiers.returncode == 0, tiers.stderr
    doc = json.loads(tiers.stdout)
    (c,) = doc["customers"]
    assert (c["key"], c["computed"], c["check"]) == (GOOD_USCC, "项目级", "ok")
    assert doc["as_of"] == "2026-09-30" and "HT-2025-001" in c["reason"]
    human = kam("tier", str(register))
    assert "序号" in human.stdout and "上海浦江" in human.stdout


def test_bankruptcy_banner_names_the_customer_and_its_unit(tmp_path: Path) -> None:
    risk = {
        "uscc": GOOD_USCC,
        "risk_type": "破产征兆",
        "level": "高",
        "found_on": dt.datetime(2026, 9, 1),
        "description": "法院受理破产申请",
    }
    path = write_submission(
        tmp_path / "b.xlsx", INFO_OK, {**DEFAULT_ROWS, "risk": [risk]}, layout=SMALL
    )
    done = kam("risk", str(path))
    banner = next(line for line in done.stdout.splitlines() if "紧急预警" in line)
    assert "上海浦江城市建设投资有限公司" in banner and "华东分公司" in banner


def test_json_is_a_document_on_exit_2_for_every_command(tmp_path: Path) -> None:
    missing = str(tmp_path / "无此文件.xlsx")
    runs = {
        ("tier", missing, "--json"): "unreadable",
        ("risk", missing, "--json"): "unreadable",
        ("merge", str(tmp_path / "无此文件夹"), "--json"): "usage",
        ("risk", missing, "--as-of", "30/9/2026", "--json"): "usage",
        ("tier", "--json", "--bogus"): "usage",
        ("validate", "--json"): "usage",  # the file argument is missing
    }
    for args, code in runs.items():
        done = kam(*args)
        assert done.returncode == 2, (args, done.stderr)
        doc = json.loads(done.stdout)  # exactly one document, nothing else
        assert doc["error"]["code"] == code, args
        assert doc["error"]["message"].strip(), args
        assert "Traceback" not in done.stderr
    register = merged_register(tmp_path)
    refused = kam("validate", str(register), "--json")
    assert refused.returncode == 2
    assert "kam risk" in json.loads(refused.stdout)["error"]["message"]


def test_help_is_chinese_including_typers_own_texts_and_flags_have_no_bool() -> None:
    commands = ("validate", "risk", "template", "kpi", "notice", "addin build", "addin doctor")
    for args in [("--help",), *((*c.split(), "--help") for c in commands)]:
        done = kam(*args)
        assert done.returncode == 0, done.stderr
        text = done.stdout
        assert "显示帮助并退出" in text and "用法：" in text and "选项" in text, args
        for english in ("Show this message", "Usage:", "Options", "Arguments", "<bool>"):
            assert english not in text, (args, english)


def test_usage_errors_are_chinese_and_suggest_the_option_meant() -> None:
    done = kam("tier", "--jsn", "x.xlsx")
    assert done.returncode == 2
    said = done.stderr.replace("\n", "")
    assert "没有选项 --jsn" in said and "是否想写 --json" in said and "kam --help" in said


def test_lang_after_the_command_via_env_and_unknown_is_exit_2(tmp_path: Path) -> None:
    import os

    from builders import roster_row

    rows = {**DEFAULT_ROWS, "roster": [roster_row(nature="私营企业")]}
    path = write_submission(tmp_path / "bad.xlsx", INFO_OK, rows, layout=SMALL)

    def message(*args: str, env: dict | None = None) -> str:
        done = kam(*args, env=env)
        assert done.returncode == 1, done.stderr
        return json.loads(done.stdout)["findings"][0]["message"]

    base = ("validate", str(path), "--json", "--today", "2026-10-15")
    assert "must be one of" in message(*base, "--lang", "en")
    assert "must be one of" in message(*base, "--lang=en")
    assert "must be one of" in message(*base, env={**os.environ, "KAM_LANG": "en_US"})
    assert "下拉" in message(*base, "--lang", "zh", env={**os.environ, "KAM_LANG": "en"})
    for bad in (("--lang", "fr"), ("--lang",)):
        done = kam(*base, *bad)
        assert done.returncode == 2 and "error" in json.loads(done.stdout), bad
    done = kam(*base[:2], env={**os.environ, "KAM_LANG": "klingon"})
    assert done.returncode == 2 and "klingon" in done.stderr and "KAM_LANG" in done.stderr


def test_rules_by_chinese_name_in_tables_ids_in_json_and_english_tier_reasons(
    tmp_path: Path,
) -> None:
    from builders import contract_row, roster_row

    rows = {
        **DEFAULT_ROWS,
        "roster": [roster_row(nature="私营企业")],
        "contracts": [contract_row(amount=12000.0, pay_status="逾期", overdue_days=120)],
    }
    path = write_submission(tmp_path / "n.xlsx", INFO_OK, rows, layout=SMALL)
    table = kam("validate", str(path), "--today", "2026-10-15").stdout
    assert "选项不符" in table and "enum" not in table
    doc = json.loads(kam("validate", str(path), "--json", "--today", "2026-10-15").stdout)
    assert "enum" in {f["rule"] for f in doc["findings"]}
    risk = kam("risk", str(path)).stdout
    assert "逾期付款" in risk and "overdue_payment" not in risk
    risk_doc = json.loads(kam("risk", str(path), "--json").stdout)
    assert "overdue_payment" in {r["rule"] for r in risk_doc["customers"][0]["reasons"]}
    english = json.loads(kam("tier", str(path), "--json", "--lang", "en").stdout)
    assert english["customers"][0]["reason"].startswith("1 contract(s) ≥ 10000 (10k CNY): HT-")
    upgrade = [
        f["message"]
        for f in json.loads(
            kam("validate", str(path), "--json", "--today", "2026-10-15", "--lang", "en").stdout
        )["findings"]
        if f["rule"] == "tier_upgrade"
    ]
    assert upgrade and "contract(s)" in upgrade[0] and "万元" not in upgrade[0]


def test_80_columns_or_piped_keep_codes_whole_and_lines_unbroken(tmp_path: Path) -> None:
    import os

    from builders import contract_row

    rows = {
        **DEFAULT_ROWS,
        "contracts": [contract_row(amount=12000.0, pay_status="逾期", overdue_days=120)],
    }
    path = write_submission(tmp_path / "w.xlsx", INFO_OK, rows, layout=SMALL)
    narrow = {**os.environ, "COLUMNS": "80"}
    tier = kam("tier", str(path), env=narrow)
    reason = json.loads(kam("tier", str(path), "--json").stdout)["customers"][0]["reason"]
    risk = kam("risk", str(path), env=narrow)
    for done in (tier, risk):
        assert done.returncode == 0, done.stderr
        assert GOOD_USCC in done.stdout  # an 18-character code is never split
        assert max(len(line) for line in done.stdout.splitlines()) <= 200
    assert any(reason in line for line in tier.stdout.splitlines())  # one line, not folded
    assert any(
        "逾期付款（高）合同 HT-2025-001 逾期 120 天" in line for line in risk.stdout.splitlines()
    )
    # A failure message going to a file is one line, however long.
    long_dir = tmp_path / ("很长的文件夹名称" * 8)
    failed = kam("merge", str(long_dir), env=narrow)
    assert failed.returncode == 2
    assert len([line for line in failed.stderr.splitlines() if line.strip()]) == 1
