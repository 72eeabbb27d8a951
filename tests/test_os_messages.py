"""Chinese messages name the cause in our own words, never the OS's or a library's English
(a missing file, a path through a file, a file that is no workbook, a non-UTF-8 list)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_merge import branch_file
from test_register_safety import CODES, TODAY

from kam.cli.inputs import read_branches
from kam.errors import UnreadableFileError, UsageError
from kam.prefill import PrefillSettings, prefill
from kam.register import MergeSettings, merge
from kam.register.archive import read_archive
from kam.register.previous import register_sheets

# Product and folder names a Chinese message may hold; any other Latin word is foreign text.
ALLOWED = {"Excel", "xlsx", "history", "UTF"}


def assert_chinese(text: str, *words: str) -> None:
    said = re.sub(r"/\S*?(?=[：（）]|$)", "", text)  # the paths named are the user's own
    foreign = set(re.findall(r"[A-Za-z]{4,}", said)) - ALLOWED
    assert not foreign, text
    for word in words:
        assert word in text, text


def test_branch_list_missing_or_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as missing:
        read_branches(tmp_path / "分公司清单.txt")
    assert_chinese(str(missing.value), "文件或文件夹不存在")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("华东分公司\n".encode("gbk"))
    with pytest.raises(UsageError) as wrong:
        read_branches(gbk)
    assert_chinese(str(wrong.value), "UTF-8")


def test_prefill_into_a_path_through_a_file(tmp_path: Path) -> None:
    branch_file(tmp_path / "in", "a.xlsx", "华东分公司", CODES[:1])
    register = tmp_path / "reg" / "名录.xlsx"
    merge(MergeSettings(register, tmp_path / "in", today=TODAY))
    (tmp_path / "out").write_text("a file, not a folder")
    with pytest.raises(UsageError) as err:
        prefill(PrefillSettings(register, "2026Q4", tmp_path / "out" / "下季度"))
    assert_chinese(str(err.value), "不是文件夹")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 broken zip", b"\xd0\xcf\x11\xe0 ole"])
def test_register_or_archive_that_is_no_workbook(tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "名录.xlsx"
    broken.write_bytes(content)
    for read in (register_sheets, lambda p: read_archive([p])):
        with pytest.raises(UnreadableFileError) as err:
            read(broken)
        assert_chinese(err.value.reason, "文件已损坏或不是工作簿")
    with pytest.raises(UnreadableFileError) as gone:
        register_sheets(tmp_path / "没有.xlsx")
    assert_chinese(gone.value.reason, "文件或文件夹不存在")
