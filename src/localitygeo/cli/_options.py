"""Options shared by several sub-commands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

#: The attribution line Ordnance Survey / ONS open data requires.
OGL_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right; Open Government Licence v3.0"
)

proposal_option = click.option(
    "--proposal",
    "proposal_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Proposal file (TOML), e.g. boundaries/<set>/proposals/<name>.toml.",
)

attribution_option = click.option(
    "--attribution",
    default=OGL_ATTRIBUTION,
    show_default=True,
    help="Attribution line (required for OGL data).",
)

escape_formulas_option = click.option(
    "--escape-formulas/--no-escape-formulas",
    "escape_formulas",
    default=True,
    show_default=True,
    help="Write text cells and headers that a spreadsheet would run as formulas (starting "
    "=, +, -, @, tab or CR) with a leading ' (see docs/security.md); --no-escape-formulas "
    "writes text exactly, for programs.",
)
