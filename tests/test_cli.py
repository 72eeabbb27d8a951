"""The `kam` command as users and scripts run it: exit codes, JSON on stdout, nothing else."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from builders import DEFAULT_ROWS, INFO_OK, contract_row, roster_row

from kam.template import Layout, write_submission

SMALL = Layout(data_rows=10)


def kam(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kam", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=180,
    )


def test_validate_json_clean_file_exits_0(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "ok.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    done = kam("validate", str(path), "--json", "--today", "2026-10-15")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc == {
        "file": str(path),
        "ok": True,
        "findings": [],
        "summary": {"errors": 0, "warnings": 0, "infos": 0, "completeness": 1.0},
    }


def test_validate_json_with_errors_exits_1_and_follows_the_contract(tmp_path: Path) -> None:
    rows = {**DEFAULT_ROWS, "roster": [roster_row(nature="私营企业")]}
    path = write_submission(tmp_path / "bad.xlsx", INFO_OK, rows, layout=SMALL)
    done = kam("validate", str(path), "--json", "--today", "2026-10-15")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["ok"] is False
    (finding,) = doc["findings"]
    assert finding == {
        "file": str(path),
        "sheet": "大客户名录",
        "row": 2,
        "column": "客户性质",
        "cell": "C2",
        "rule": "enum",
        "severity": "error",
        "message": finding["message"],
    }
    assert "私营企业" in finding["message"] and "下拉" in finding["message"]
    english = kam("--lang", "en", "validate", str(path), "--json", "--today", "2026-10-15")
    assert "must be one of" in json.loads(english.stdout)["findings"][0]["message"]


def test_validate_unreadable_file_exits_2_with_a_file_level_finding(tmp_path: Path) -> None:
    fake = tmp_path / "华中分公司.xlsx"
    fake.write_text("客户名称,统一社会信用代码\n甲,123\n", encoding="utf-8")
    done = kam("validate", str(fake), "--json")
    assert done.returncode == 2
    (finding,) = json.loads(done.stdout)["findings"]
    assert finding["rule"] == "unreadable" and finding["cell"] is None


def test_validate_human_output_and_annotate(tmp_path: Path) -> None:
    rows = {**DEFAULT_ROWS, "roster": [roster_row(phone="12345")]}
    path = write_submission(tmp_path / "b.xlsx", INFO_OK, rows, layout=SMALL)
    out = tmp_path / "marked.xlsx"
    done = kam("validate", str(path), "--annotate", str(out), "--today", "2026-10-15")
    assert done.returncode == 1
    assert "大客户名录" in done.stdout and "I2" in done.stdout
    assert out.exists() and path.exists()
    same = kam("validate", str(path), "--annotate", str(path))
    assert same.returncode == 2 and "Traceback" not in same.stderr


def test_bad_date_option_and_missing_rules_file_exit_2(tmp_path: Path) -> None:
    path = write_submission(tmp_path / "b.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    bad = kam("validate", str(path), "--today", "15/10/2026")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    missing = kam("validate", str(path), "--rules", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "规则文件" in missing.stderr
    bad_rules = tmp_path / "r.toml"
    bad_rules.write_text("[tier.default]\nbranch_amount_ge = -1\n", encoding="utf-8")
    named = kam("tier", str(path), "--rules", str(bad_rules))
    assert named.returncode == 2 and "branch_amount_ge" in named.stderr


def test_tier_json(tmp_path: Path) -> None:
    rows = {
        **DEFAULT_ROWS,
        "contracts": [
            contract_row(no="HT-2021-007", amount=20000.01, signed_on=dt.datetime(2021, 9, 30)),
            contract_row(no="HT-2024-013", amount=25000.0, signed_on=dt.datetime(2024, 7, 15)),
        ],
    }
    path = write_submission(tmp_path / "t.xlsx", INFO_OK, rows, layout=SMALL)
    done = kam("tier", str(path), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["as_of"] == "2026-09-30"
    (c,) = doc["customers"]
    assert (c["recorded"], c["computed"], c["check"]) == ("项目级", "集团级", "tier_upgrade")
    assert "HT-2021-007" in c["reason"] and "HT-2024-013" in c["reason"]
    later = json.loads(kam("tier", str(path), "--json", "--as-of", "2026-10-01").stdout)
    assert later["customers"][0]["computed"] == "分公司级"  # 2021-09-30 left the window


def test_template_command_writes_the_template(tmp_path: Path) -> None:
    done = kam("template", "--out", str(tmp_path / "t"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "分公司季度报送模板.xlsx").exists()
    register = tmp_path / "t" / "集团大客户名录.xlsx"
    register.write_bytes(b"HQ's real register")  # a second run must not blank it
    again = kam("template", "--out", str(tmp_path / "t"))
    assert again.returncode == 0 and "未改动" in again.stdout
    assert register.read_bytes() == b"HQ's real register"


def test_risk_json_lists_bankruptcy_first(tmp_path: Path) -> None:
    uscc = DEFAULT_ROWS["roster"][0]["uscc"]
    rows = {
        **DEFAULT_ROWS,
        "contracts": [contract_row(pay_status="逾期", overdue_days=91)],
        "risk": [
            {
                "uscc": uscc,
                "risk_type": "破产征兆",
                "level": "高",
                "found_on": dt.datetime(2026, 9, 1),
                "description": "法院受理破产申请",
            }
        ],
    }
    path = write_submission(tmp_path / "r.xlsx", INFO_OK, rows, layout=SMALL)
    done = kam("risk", str(path), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    (c,) = doc["customers"]
    assert (c["key"], c["level"]) == (uscc, "高")
    rules = {r["rule"]: r["level"] for r in c["reasons"]}
    assert rules["bankruptcy"] == "高" and rules["overdue_payment"] == "高"
    human = kam("risk", str(path))
    assert human.stdout.index("紧急预警") < human.stdout.index("风险评估")


def test_merge_json_exit_codes_and_lock(tmp_path: Path) -> None:
    from kam.register.safety import register_lock

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_submission(inbox / "华东.xlsx", INFO_OK, DEFAULT_ROWS, layout=SMALL)
    (inbox / "华中.xlsx").write_text("不是工作簿", encoding="utf-8")
    register = tmp_path / "集团大客户名录.xlsx"
    done = kam("merge", str(inbox), "--register", str(register), "--json", "--today", "2026-10-15")
    assert done.returncode == 1, done.stderr  # a rejected file is a data error
    doc = json.loads(done.stdout)
    assert set(doc) >= {"register", "files", "conflicts", "totals"}
    by_file = {f["file"]: f for f in doc["files"]}
    assert by_file["华中.xlsx"]["status"] == "rejected" and by_file["华中.xlsx"]["reason"]
    ok = by_file["华东.xlsx"]
    assert (ok["status"], ok["branch"], ok["quarter"]) == ("merged", "华东分公司", "2026Q3")
    t = doc["totals"]
    assert t["rows_in"] == t["merged"] + t["rejected"] + t["duplicate"] == 3
    assert register.exists()

    (inbox / "华中.xlsx").unlink()
    again = kam("merge", str(inbox), "--register", str(register), "--json")
    assert again.returncode == 0
    assert [f["status"] for f in json.loads(again.stdout)["files"]] == ["unchanged"]

    with register_lock(register):
        held = kam("merge", str(inbox), "--register", str(register))
    assert held.returncode == 2 and "Traceback" not in held.stderr
    assert str(__import__("os").getpid()) in held.stderr
