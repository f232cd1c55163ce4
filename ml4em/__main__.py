"""``python -m ml4em`` runs the ``ml4em`` command."""

import sys

from .cli import main

sys.exit(main())
