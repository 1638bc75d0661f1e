"""Subcommands of the ``inpaintstudio`` command line, one module each (add_parser + run)."""
