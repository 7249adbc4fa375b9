"""``python -m addin`` runs the ``cdm`` command line."""

from addin.cli import main

main()
