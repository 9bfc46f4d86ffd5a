"""``python -m archspec``: the same command line as the ``archspec`` console script."""

import sys

from archspec.cli import main

sys.exit(main())
