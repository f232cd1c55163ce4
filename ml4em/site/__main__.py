"""``python -m ml4em.site build|slides``: the course website or the lecture slides."""

import sys

from .build import main

sys.exit(main())
