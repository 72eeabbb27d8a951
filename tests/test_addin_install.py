"""kam addin install / doctor: kam's own config (never xlwings' global one), written with
environment variables and in the code page xlwings' VBA reads, under a Chinese user name;
the move out of an earlier kam's xlwings.conf; the field checks of doctor."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import build, doctor, install
from kam.cli.addin_cmd import addin_app
from kam.errors import KamError

USER = r"C:\Users\张伟"
LOCAL = USER + r"\AppData\Local"


def windows(tmp_path: Path, encoding: str, **extra: object) -> install.InstallSettings:
    """A Windows user 张伟 whose Python is under %LOCALAPPDATA% and kam under his profile."""
    values: dict[str, object] = {
        "platform": "win32",
        "home": tmp_path / "home",
        "python": Path(LOCAL + r"\Programs\Python\Python311\python.exe"),
        "project_root": Path(USER + r"\kam"),
        "environ": {"USERPROFILE": USER, "LOCALAPPDATA": LOCAL, "APPDATA": str(tmp_path / "ad")},
        "encoding": encoding,
        **extra,
    }
    return install.InstallSettings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["cp936", "utf-8"])
def test_config_under_a_chinese_user_name_is_ascii_with_variables(
    tmp_path: Path, encoding: str
) -> None:
    settings = windows(tmp_path, encoding)
    path = install.write_config(settings)
    assert path == tmp_path / "home" / ".kam" / "kam.conf"
    assert path.read_bytes() == (
        b'"INTERPRETER_WIN","%LOCALAPPDATA%\\Programs\\Python\\Python311\\python.exe"\r\n'
        b'"PYTHONPATH","%USERPROFILE%\\kam"\r\n'
    )
    assert not settings.xlwings_config_file.exists()  # the global xlwings config untouched


@pytest.mark.parametrize(("encoding", "codec"), [("cp936", "gbk"), ("utf-8", "utf-8")])
def test_a_path_outside_the_profile_is_written_in_the_ansi_code_page(
    tmp_path: Path, encoding: str, codec: str
) -> None:
    settings = windows(tmp_path, encoding, project_root=Path(r"D:\数据\kam"))
    data = install.write_config(settings).read_bytes()
    assert data.decode(codec).splitlines()[1] == r'"PYTHONPATH","D:\数据\kam"'
    assert data.count(b"\r\n") == 2 and data.count(b"\n") == 2  # CRLF, as VBA writes
    assert install.read_config(settings.config_file, encoding)["PYTHONPATH"] == r"D:\数据\kam"


def test_a_character_the_code_page_cannot_hold_is_refused_with_a_fix(tmp_path: Path) -> None:
    settings = windows(tmp_path, "cp1252", project_root=Path(r"D:\数据\kam"))
    with pytest.raises(install.AddinInstallError, match=r"数.*cp1252.*C:\\kam"):
        install.write_config(settings)
    assert not settings.config_file.exists()


def test_the_default_encoding_is_the_ansi_code_page_not_the_utf8_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(install.locale, "getencoding", lambda: "cp936")
    assert windows(tmp_path, "").config_encoding == "cp936"
    mac = install.InstallSettings(platform="darwin", home=tmp_path)
    assert mac.config_encoding == "utf-8" and mac.newline == "\n"


def test_macos_uses_home_and_the_excel_sandbox(tmp_path: Path) -> None:
    home = tmp_path / "王芳"
    settings = install.InstallSettings(
        platform="darwin",
        home=home,
        python=home / "kam/.venv/bin/python",
        project_root=home / "kam",
    )
    path = install.write_config(settings)
    assert path == home / "Library/Containers/com.microsoft.Excel/Data/kam.conf"
    assert path.read_text(encoding="utf-8") == (
        '"INTERPRETER_MAC","$HOME/kam/.venv/bin/python"\n"PYTHONPATH","$HOME/kam"\n'
    )


def test_rewriting_keeps_other_keys_and_the_previous_version(tmp_path: Path) -> None:
    settings = windows(tmp_path, "cp936")
    settings.config_file.parent.mkdir(parents=True)
    settings.config_file.write_bytes(b'"SHOW CONSOLE","True"\r\n"PYTHONPATH","old"\r\n')
    install.write_config(settings)
    config = install.read_config(settings.config_file, "cp936")
    assert config["SHOW CONSOLE"] == "True" and config["PYTHONPATH"] == r"%USERPROFILE%\kam"
    backup = settings.config_file.with_name("kam.conf.bak")
    assert b'"PYTHONPATH","old"' in backup.read_bytes()


def legacy(settings: install.InstallSettings, *user_lines: str) -> bytes:
    """xlwings.conf as the earlier kam install left it: the user's keys, then kam's."""
    lines = [
        *user_lines,
        f'"INTERPRETER_WIN","{settings.python}"',
        f'"PYTHONPATH","{settings.project_root}"',
        '"UDF MODULES","addin.udfs"',
    ]
    data = "".join(f"{line}\n" for line in lines).encode("gbk")
    settings.xlwings_config_file.parent.mkdir(parents=True, exist_ok=True)
    settings.xlwings_config_file.write_bytes(data)
    return data


def test_migration_takes_kams_keys_out_of_xlwings_conf_and_keeps_the_users(
    tmp_path: Path,
) -> None:
    settings = windows(tmp_path, "cp936")
    before = legacy(settings, '"SHOW CONSOLE","True"', '"CONDA ENV","数据分析"')
    said = install.migrate_xlwings_config(settings)
    assert said is not None and "INTERPRETER_WIN" in said and "备份" in said
    after = settings.xlwings_config_file.read_bytes().decode("gbk")
    assert after == '"SHOW CONSOLE","True"\n"CONDA ENV","数据分析"\n'
    backup = settings.xlwings_config_file.with_name("xlwings.conf.kam-backup")
    assert backup.read_bytes() == before
    assert install.migrate_xlwings_config(settings) is None  # nothing left to move


def test_migration_removes_a_file_kam_alone_wrote_and_leaves_a_changed_key(
    tmp_path: Path,
) -> None:
    settings = windows(tmp_path, "cp936")
    legacy(settings)
    install.migrate_xlwings_config(settings)
    assert not settings.xlwings_config_file.exists()
    # A PYTHONPATH the user has changed since is theirs: it stays.
    path = settings.xlwings_config_file
    path.write_bytes(b'"PYTHONPATH","D:\\mine"\n"UDF MODULES","addin.udfs"\n')
    install.migrate_xlwings_config(settings)
    assert path.read_bytes() == b'"PYTHONPATH","D:\\mine"\n'


def test_install_on_linux_says_desktop_excel_is_needed_and_names_the_cli(tmp_path: Path) -> None:
    settings = install.InstallSettings(platform="linux", home=tmp_path)
    with pytest.raises(install.DesktopExcelRequiredError) as caught:
        install.install(settings)
    assert isinstance(caught.value, KamError)
    text = str(caught.value)
    assert "桌面版 Excel" in text and "kam merge" in text and "kam validate" in text
    assert list(tmp_path.iterdir()) == []  # nothing written


# -- install end to end, with xlwings' step faked: judged by the file it leaves ----------

SAID_OK = "Successfully installed the xlwings add-in! Please restart Excel."
SAID_BUSY = (
    "Error: Failed to install the add-in: If Excel is running, quit Excel and try again. "
    "If you are using the '--glob' option make sure to run this command from an Elevated "
    "Command Prompt."
)


def _fake_python(tmp_path: Path, xlstart: Path, *, said: str, copies: bool) -> Path:
    """An interpreter that acts as xlwings_step.py would under Excel, exit code 0 always."""
    copy = 'cp "$3" "$XLSTART/"' if copies else ":"
    script = tmp_path / "python"
    script.write_text(
        f'#!/bin/bash\nXLSTART="{xlstart}"\n{copy}\necho "{said}"\n'
        'echo "KAM_ADDIN_DIR=$XLSTART"\nexit 0\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_install_copies_the_addin_writes_kam_conf_and_cleans_xlwings_conf(tmp_path: Path) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    python = _fake_python(tmp_path, xlstart, said=SAID_OK, copies=True)
    settings = windows(tmp_path, "cp936", python=python, project_root=install.PROJECT_ROOT)
    legacy(settings, '"SHOW CONSOLE","True"')
    lines = install.install(settings)
    assert (xlstart / "kam.xlam").read_bytes() == (settings.build_dir / "kam.xlam").read_bytes()
    assert sorted(p.name for p in xlstart.iterdir()) == ["kam.xlam"]  # no xlwings.xlam
    assert str(xlstart / "kam.xlam") in lines[0]
    written = install.read_config(settings.config_file, "cp936")["PYTHONPATH"]
    assert written == str(PureWindowsPath(install.PROJECT_ROOT))
    assert settings.xlwings_config_file.read_bytes() == b'"SHOW CONSOLE","True"\n'
    assert "kam addin selftest" in lines[-1]


@pytest.mark.parametrize(
    ("said", "copies", "phrase"),
    [
        (SAID_BUSY, True, "quit Excel and try again"),  # xlwings' own error, exit code 0
        (SAID_OK, False, "未找到或不完整"),  # says it worked, left nothing
    ],
)
def test_install_fails_when_the_add_in_did_not_land(
    tmp_path: Path, said: str, copies: bool, phrase: str
) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    python = _fake_python(tmp_path, xlstart, said=said, copies=copies)
    settings = windows(tmp_path, "cp936", python=python)
    with pytest.raises(install.AddinInstallError) as caught:
        install.install(settings)
    assert phrase in str(caught.value) and "请先关闭所有 Excel 窗口再重试" in str(caught.value)
    assert not settings.config_file.exists()  # nothing half-done is left configured


def test_the_real_xlwings_step_without_excel_fails_with_its_reason(tmp_path: Path) -> None:
    settings = install.InstallSettings(platform="win32", home=tmp_path)
    dummy = tmp_path / "kam.xlam"
    dummy.write_bytes(b"x")
    with pytest.raises(install.AddinInstallError, match="only supported on Windows and macOS"):
        install._xlwings_addin_install(settings, dummy)


# -- doctor ---------------------------------------------------------------------------------


class FakeKey:
    def __init__(self, values: list[bytes]) -> None:
        self.values = values

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class FakeRegistry:
    """The winreg calls doctor makes, over a dict of key path -> binary values."""

    HKEY_CURRENT_USER = object()

    def __init__(self, keys: dict[str, list[bytes]]) -> None:
        self.keys = keys

    def OpenKey(self, root: object, path: str) -> FakeKey:
        assert root is self.HKEY_CURRENT_USER
        if path not in self.keys:
            raise FileNotFoundError(path)
        return FakeKey(self.keys[path])

    def EnumValue(self, key: FakeKey, index: int) -> tuple[str, bytes, int]:
        if index >= len(key.values):
            raise OSError("no more data")
        return (f"v{index}", key.values[index], 3)


def disabled_record(path: str) -> bytes:
    """A DisabledItems value as Excel writes it: type, two lengths, path and name in UTF-16."""
    data, name = (path + "\0").encode("utf-16-le"), "kam\0".encode("utf-16-le")
    return struct.pack("<III", 1, len(data), len(name)) + data + name


def installed(tmp_path: Path, registry: FakeRegistry | None = None) -> install.InstallSettings:
    settings = windows(
        tmp_path,
        "cp936",
        python=Path(sys.executable),
        project_root=install.PROJECT_ROOT,
        startup_dir=tmp_path / "XLSTART",
        registry=registry or FakeRegistry({}),
    )
    build.build_addin(settings.excel_startup_dir)
    # This machine's real paths (install would write them in Windows form).
    settings.config_file.parent.mkdir(parents=True)
    settings.config_file.write_text(
        f'"INTERPRETER_WIN","{sys.executable}"\r\n"PYTHONPATH","{install.PROJECT_ROOT}"\r\n',
        encoding="cp936",
    )
    return settings


def rows(
    settings: install.InstallSettings, workbook: Path | None = None
) -> dict[str, doctor.Check]:
    return {r.check: r for r in doctor.doctor(settings, workbook)}


def test_doctor_passes_an_installed_addin_and_names_each_check(tmp_path: Path) -> None:
    found = rows(installed(tmp_path))
    assert all(r.ok for r in found.values()), [r for r in found.values() if not r.ok]
    names = " ".join(found)
    for phrase in ("Excel 启动文件夹", "DLL 版本", "禁用项目", "解释器", "PYTHONPATH", "旧版 kam"):
        assert phrase in names


def test_doctor_finds_the_addin_missing_from_excels_startup_folder(tmp_path: Path) -> None:
    settings = installed(tmp_path)
    (settings.excel_startup_dir / "kam.xlam").unlink()
    (bad,) = [r for r in doctor.doctor(settings) if not r.ok]
    assert "启动文件夹" in bad.check and "kam addin install" in bad.fix


def test_doctor_compares_the_dll_version_inside_the_addin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = installed(tmp_path)
    inside = doctor.addin_xlwings_version(settings.excel_startup_dir / "kam.xlam")
    assert inside is not None and inside.count(".") == 2
    monkeypatch.setattr(doctor.importlib.metadata, "version", lambda name: "99.0.0")
    (bad,) = [r for r in doctor.doctor(settings) if not r.ok]
    assert "DLL" in bad.check and f"xlwings {inside}" in bad.fix and "99.0.0" in bad.fix


def test_doctor_reads_excels_disabled_items_from_the_registry(tmp_path: Path) -> None:
    key = r"Software\Microsoft\Office\16.0\Excel\Resiliency\DisabledItems"
    registry = FakeRegistry({key: [disabled_record(r"C:\Other\tool.xlam")]})
    settings = installed(tmp_path, registry)
    assert all(r.ok for r in doctor.doctor(settings))
    registry.keys[key].append(
        disabled_record(USER + r"\AppData\Roaming\Microsoft\Excel\XLSTART\KAM.XLAM")
    )
    (bad,) = [r for r in doctor.doctor(settings) if not r.ok]
    assert "禁用项目" in bad.check and "启用" in bad.fix


def test_doctor_finds_a_kam_conf_beside_or_inside_a_workbook(tmp_path: Path) -> None:
    settings = installed(tmp_path)
    folder = tmp_path / "分公司"
    folder.mkdir()
    book = folder / "报送.xlsx"
    wb = openpyxl.Workbook()
    wb.create_sheet("kam.conf")
    wb.save(book)
    (folder / "kam.conf").write_text('"PYTHONPATH","x"\n', encoding="utf-8")
    bad = [r for r in doctor.doctor(settings, book) if not r.ok]
    assert len(bad) == 2
    assert "删除或改名" in bad[0].fix and str(folder / "kam.conf") in bad[0].fix
    assert "工作表" in bad[1].fix
    (folder / "kam.conf").unlink()
    wb.remove(wb["kam.conf"])
    wb.save(book)
    assert all(r.ok for r in doctor.doctor(settings, book))


def test_doctor_flags_an_earlier_kams_keys_in_xlwings_conf(tmp_path: Path) -> None:
    settings = installed(tmp_path)
    legacy(settings)
    (bad,) = [r for r in doctor.doctor(settings) if not r.ok]
    assert "旧版 kam" in bad.check and "kam addin install" in bad.fix


def test_doctor_and_selftest_on_linux_say_they_are_for_windows_and_macos(tmp_path: Path) -> None:
    with pytest.raises(install.DesktopExcelRequiredError, match="Windows 或 macOS"):
        doctor.doctor(install.InstallSettings(platform="linux", home=tmp_path))
    if not install.InstallSettings().desktop_excel:
        for command in ("doctor", "selftest"):
            done = subprocess.run(
                [sys.executable, "-c", "from kam.cli.app import main; main()", "addin", command],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 2, done.stderr
            assert "桌面版 Excel" in done.stderr and "Windows 或 macOS" in done.stderr


def test_cli_group_builds_and_refuses_install_on_linux(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(addin_app, ["build", "--out", str(tmp_path / "d")])
    assert done.exit_code == 0 and (tmp_path / "d" / "kam.xlam").is_file()
    if not install.InstallSettings().desktop_excel:
        done = runner.invoke(addin_app, ["install"])
        assert isinstance(done.exception, install.DesktopExcelRequiredError)


def test_kam_doctor_and_the_build_never_import_xlwings_in_kams_process(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib, kam.cli.addin_cmd, addin.build, addin.install, addin.doctor; "
        f"addin.build.build_addin(pathlib.Path({str(tmp_path)!r})); "
        "assert 'xlwings' not in sys.modules, 'xlwings imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
