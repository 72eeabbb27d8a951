"""CLI conventions for people: no overwrites, JSON on every exit, Chinese help, --lang anywhere."""

from __future__ import annotations

from pathlib import Path

from test_cli import kam


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
