"""localitygeo: local-government geography for wards, neighbourhoods and localities.

The package follows the pipeline load → validate → change → aggregate →
map/report, one folder a stage: :mod:`localitygeo.io` and
:mod:`localitygeo.model` (load), :mod:`localitygeo.geometry` and
:mod:`localitygeo.validation` (validate), :mod:`localitygeo.changes`,
:mod:`localitygeo.aggregation`, :mod:`localitygeo.maps` and the thin
:mod:`localitygeo.cli`. Public names are imported lazily, so that ``import
localitygeo`` (and the command line's ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from localitygeo import deprecation as _deprecation

__version__ = "0.1.0.dev0"

# Public name -> module that defines it. Imported on first use.
_LAZY: dict[str, str] = {
    # errors
    "LocalityGeoError": "localitygeo.errors",
    "LocalityGeoWarning": "localitygeo.errors",
    # load
    "read_layer": "localitygeo.io.layers",
    "working_crs": "localitygeo.geometry.crs",
    "read_boundaries": "localitygeo.io.manifest",
    "read_measurable": "localitygeo.io.measurable",
    "write_manifest": "localitygeo.io.manifest_write",
    "BoundarySet": "localitygeo.model.boundary_set",
    "NestingRule": "localitygeo.model.boundary_set",
    "Checks": "localitygeo.model.boundary_set",
    # validate
    "validate": "localitygeo.validation.checks",
    "ValidationReport": "localitygeo.validation.report",
    "best_fit": "localitygeo.geometry.fitting",
    "judge_nesting": "localitygeo.validation.judgement",
    "NestingJudgement": "localitygeo.validation.judgement",
    "overlap_table": "localitygeo.geometry.overlay",
    "set_overlap_table": "localitygeo.geometry.overlay",
    "OverlapTable": "localitygeo.geometry.overlay",
    "OverlapCache": "localitygeo.geometry.overlap_cache",
    "find_gaps": "localitygeo.geometry.coverage",
    "find_overlaps": "localitygeo.geometry.coverage",
    # change
    "realign": "localitygeo.changes.realignment",
    "apply": "localitygeo.changes.operations",
    "write_boundaries": "localitygeo.io.export",
    "Proposal": "localitygeo.changes.proposal",
    "Operation": "localitygeo.changes.proposal",
    "read_proposal": "localitygeo.changes.proposal",
    "impact": "localitygeo.changes.assessment",
    "Impact": "localitygeo.changes.assessment",
    "apply_moves": "localitygeo.changes.differences",
    "diff": "localitygeo.changes.differences",
    "Diff": "localitygeo.changes.differences",
    # aggregate
    "read_indicators": "localitygeo.io.tables",
    "aggregate": "localitygeo.aggregation.transfer",
    "imd_summary": "localitygeo.aggregation.imd",
    "compare": "localitygeo.aggregation.comparison",
    "theil_decomposition": "localitygeo.aggregation.inequality",
    "inequality": "localitygeo.aggregation.inequality",
    # write
    "write_csv": "localitygeo.io.safecsv",
}

__all__ = ["__version__", *sorted(_LAZY)]

# Old flat module paths (localitygeo.boundaries...) warn and still work for one release.
_deprecation.install()


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
