"""Print, as JSON, the VBA wrappers of addin.udfs written by xlwings' own Import Functions
code (`xlwings.udfs.generate_vba_wrapper`) and each function's help text (run as a script).

xlwings' UDF decorators and that generator live in xlwings.udfs, which imports pywin32 at
its top for the COM calls of a live Excel; generating text needs none of it. Off Windows
(or without pywin32) this child process therefore gives xlwings.udfs inert stand-ins for
the three pywin32 modules, and makes xw.func/arg/ret the real decorators before importing
addin.udfs, exactly as `import xlwings` does on Windows. None of this touches kam's own
process: addin.build runs this file in a child.
"""

from __future__ import annotations

import io
import json
import sys
import types


def _load_udfs() -> types.ModuleType:
    try:
        import xlwings.udfs as xl_udfs
    except ImportError:
        for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
            stand_in = types.ModuleType(name)
            stand_in.CoInitialize = stand_in.Dispatch = stand_in.com_error = None  # type: ignore[attr-defined]
            sys.modules[name] = stand_in
        import xlwings
        import xlwings.udfs as xl_udfs

        xlwings.func, xlwings.arg, xlwings.ret = xl_udfs.xlfunc, xl_udfs.xlarg, xl_udfs.xlret
    return xl_udfs


class _AddinBook:
    """What generate_vba_wrapper asks of the workbook: its name (an add-in's wrappers pass
    ActiveWorkbook rather than ThisWorkbook to Python)."""

    def __init__(self, name: str) -> None:
        self.Name = name


def main(argv: list[str]) -> int:
    module_name, book_name = argv
    xl_udfs = _load_udfs()
    import importlib

    module = importlib.import_module(module_name)
    out = io.StringIO()
    xl_udfs.generate_vba_wrapper(module_name, module, out, _AddinBook(book_name))
    functions = [
        {
            "name": fn.__xlfunc__["name"],
            "doc": fn.__xlfunc__["ret"]["doc"],
            "category": fn.__xlfunc__["category"],
            "args": [a["doc"] for a in fn.__xlfunc__["args"] if not a["vba"]],
        }
        for fn in (getattr(module, n) for n in dir(module))
        if hasattr(fn, "__xlfunc__")
    ]
    json.dump({"vba": out.getvalue(), "functions": functions}, sys.stdout, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
