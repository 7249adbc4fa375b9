"""``python -m addin`` runs the ``cdm`` command line."""

from addin.cli import main

if __name__ == "__main__":  # not again in a worker process that starts fresh and imports this module (--workers)
    main()
