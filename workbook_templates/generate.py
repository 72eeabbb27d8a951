"""Regenerate the checked-in blank template: `python -m workbook_templates.generate`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kam.template import TEMPLATE_FILENAME, write_template

HERE = Path(__file__).resolve().parent
CHECKED_IN = HERE / TEMPLATE_FILENAME


def generate(out_dir: Path = HERE) -> Path:
    """Write the template into out_dir, after checking that two generations are identical."""
    with tempfile.TemporaryDirectory() as tmp:
        first = write_template(Path(tmp) / "a")[0].read_bytes()
        second = write_template(Path(tmp) / "b")[0].read_bytes()
    if first != second:  # a timestamp or an unordered set leaked into the output
        raise RuntimeError("模板生成结果不稳定：两次生成的文件不一致")
    out = Path(out_dir) / TEMPLATE_FILENAME
    out.write_bytes(first)
    return out


def main() -> int:
    path = generate()
    print(f"已生成 {path}（{path.stat().st_size} 字节）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
