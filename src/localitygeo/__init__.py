"""localitygeo: local-government geography for wards, neighbourhoods and localities.

The package follows the pipeline load → validate → change → aggregate →
map/report. Public functions are imported lazily so that ``import
localitygeo`` (and the command line's ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0.dev0"

# Public name -> module that defines it. Imported on first use.
_LAZY: dict[str, str] = {
    # errors
    "LocalityGeoError": "localitygeo.errors",
    "LocalityGeoWarning": "localitygeo.errors",
    # load
    "read_layer": "localitygeo.io",
    "working_crs": "localitygeo.crs",
    "read_boundaries": "localitygeo.boundaries",
    "BoundarySet": "localitygeo.boundaries",
    "NestingRule": "localitygeo.boundaries",
    "Checks": "localitygeo.boundaries",
    # validate
    "validate": "localitygeo.validate",
    "ValidationReport": "localitygeo.report",
    "best_fit": "localitygeo.nesting",
    "judge_nesting": "localitygeo.judgement",
    "NestingJudgement": "localitygeo.judgement",
    "overlap_table": "localitygeo.overlay",
    "set_overlap_table": "localitygeo.overlay",
    "OverlapTable": "localitygeo.overlay",
    "OverlapCache": "localitygeo.overlay",
    "find_gaps": "localitygeo.coverage",
    "find_overlaps": "localitygeo.coverage",
    # change
    "realign": "localitygeo.realign",
    "apply": "localitygeo.change",
    "write_boundaries": "localitygeo.export",
    "Proposal": "localitygeo.proposal",
    "Operation": "localitygeo.proposal",
    "read_proposal": "localitygeo.proposal",
    "impact": "localitygeo.impact",
    "Impact": "localitygeo.impact",
    "apply_moves": "localitygeo.realign",
    "diff": "localitygeo.realign",
    "Diff": "localitygeo.realign",
    # aggregate
    "read_indicators": "localitygeo.indicators",
    "aggregate": "localitygeo.aggregate",
    "imd_summary": "localitygeo.imd",
    "compare": "localitygeo.compare",
    "theil_decomposition": "localitygeo.inequality",
    "inequality": "localitygeo.inequality",
    # write
    "write_csv": "localitygeo.safecsv",
}

__all__ = ["__version__", *sorted(_LAZY)]

# Functions that share their module's name (validate in validate.py...). When
# Python imports such a submodule it sets it as an attribute of the package,
# which would hide the function: ``lg.validate`` would become a module. The
# package's class keeps those attributes for the functions.
_SHADOWED = frozenset(n for n, m in _LAZY.items() if m == f"{__name__}.{n}" and n != "inequality")


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Import public names on first access."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'localitygeo' has no attribute {name!r}") from None
    if name == "inequality":
        value = importlib.import_module(module)
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List public names, including lazily imported ones."""
    return sorted(set(globals()) | set(_LAZY))
