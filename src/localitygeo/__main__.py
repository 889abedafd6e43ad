"""Allow ``python -m localitygeo``."""

import sys

from localitygeo.cli import main

sys.exit(main())
