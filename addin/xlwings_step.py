"""Run `xlwings addin install [ARGS]` and say where the add-in went (run as a script).

xlwings' CLI prints its errors ("Error: Failed to install the add-in ...") and still exits
0, so its exit code proves nothing. This script runs it in the interpreter Excel will use,
then prints the Excel startup folder it installed into on a last line, `KAM_ADDIN_DIR=...`,
so that addin.install can check the file really is there.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from xlwings import cli  # only here: this runs in a child, never inside kam

    sys.argv = ["xlwings", "addin", "install", *argv]
    cli.main()
    sys.stdout.flush()
    print(f"KAM_ADDIN_DIR={cli.get_addin_dir()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
