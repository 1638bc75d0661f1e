"""``python -m inpaintstudio`` is the same as the ``inpaintstudio`` command."""

import sys

from inpaintstudio.cli import main

sys.exit(main())
