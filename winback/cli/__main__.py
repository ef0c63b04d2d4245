"""`python -m winback.cli`: the same as the `winback` command."""

from winback.cli import main

main()
