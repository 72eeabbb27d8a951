"""`python -m kam` is the `kam` command."""

from kam.cli.app import main

main()
