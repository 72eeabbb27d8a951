"""Run a function of an add-in's VBA module in LibreOffice (run by the system python3,
which has LibreOffice's `uno`; see tests/test_addin_libreoffice.py).

Usage: python3 libreoffice_vba.py XLAM MODULE FUNCTION [--set-aside M ...] [--break]
Prints one JSON object: the module source LibreOffice imported and the function's result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue

FILTER = "Calc MS Excel 2007 VBA XML"
ALWAYS_EXECUTE_NO_WARN = 4
EMPTY_MODULE = "Rem Attribute VBA_ModuleType=VBAModule\nOption VBASupport 1\n"


def prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("xlam")
    ap.add_argument("module")
    ap.add_argument("function")
    ap.add_argument("--set-aside", nargs="*", default=[])
    ap.add_argument("--break", dest="broken", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / Path(args.xlam).name  # a copy: LibreOffice leaves a lock file
        work.write_bytes(Path(args.xlam).read_bytes())
        pipe = f"kamvba{os.getpid()}"
        soffice = subprocess.Popen(
            [
                "soffice",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
                f"--accept=pipe,name={pipe};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local
            )
            for _ in range(240):
                try:
                    ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except Exception:
                    time.sleep(0.5)
            else:
                raise SystemExit("LibreOffice did not start")
            manager = ctx.ServiceManager
            desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            doc = desktop.loadComponentFromURL(
                work.as_uri(),
                "_blank",
                0,
                (
                    prop("Hidden", True),
                    prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN),
                    prop("FilterName", FILTER),
                ),
            )
            libraries = doc.BasicLibraries
            (name,) = [n for n in libraries.getElementNames() if n != "Standard"]
            library = libraries.getByName(name)
            source = library.getByName(args.module)
            for other in args.set_aside:
                library.replaceByName(other, EMPTY_MODULE)
            if args.broken:  # the control: a syntax error must make the call fail
                library.replaceByName(args.module, source + "\nSub Broken(\n")
            url = (
                f"vnd.sun.star.script:{name}.{args.module}.{args.function}"
                "?language=Basic&location=document"
            )
            try:
                result = doc.getScriptProvider().getScript(url).invoke((), (), ())[0]
            except Exception as exc:
                result = f"error: {exc}"
            print(json.dumps({"library": name, "source": source, "result": result}))
            doc.close(True)
        finally:
            with contextlib.suppress(Exception):
                desktop.terminate()
            try:
                soffice.wait(timeout=60)
            except subprocess.TimeoutExpired:
                soffice.kill()


if __name__ == "__main__":
    main()
