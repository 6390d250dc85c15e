"""`python -m indigo ...`: the same as the `indigo` command (indigo.cli)."""

from indigo.cli import main

main()
