"""``python -m sklearn_swdae``: the ``swdae`` command line."""

import sys

from .cli import main

sys.exit(main())
