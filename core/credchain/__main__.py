"""``python -m credchain``: the same as the ``credchain`` command."""

from credchain.cli import main

main()
