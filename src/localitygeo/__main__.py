"""Allow ``python -m localitygeo``."""

from localitygeo.cli import run

run()
