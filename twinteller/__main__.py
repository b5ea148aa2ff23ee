"""`python -m twinteller COMMAND ...`: the `twinteller` command where the console script is
not on PATH (twinteller/cli/main.py)."""

from twinteller.cli.main import main

main()
