"""Entry point for ``python -m mb_ci``."""

import sys

from mb_ci.cli import main

sys.exit(main())
