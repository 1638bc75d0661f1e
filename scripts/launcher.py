"""Entry script of the PyInstaller build (installer.spec): the same as the ``inpaintstudio`` command.

Kept outside the package so the frozen executable's ``__main__`` is this file and ``inpaintstudio`` is
imported as a normal package (its ``__main__.py`` would run ``sys.exit`` at import time).
"""

import multiprocessing
import sys

from inpaintstudio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a no-op unless a library starts worker processes in the frozen app
    sys.exit(main())
