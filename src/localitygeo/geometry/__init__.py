"""Geometry: projected measurement, best fit, overlaps, coverage and the exact engine.

Modules
-------
crs, projection
    The working CRS of a set, and reprojection (parallel, bit for bit ``to_crs``).
fitting
    :func:`best_fit`: each child's best parent, with shares.
overlay, overlap_cache
    :func:`overlap_table`: every child/parent overlap area, cached per set.
coverage, unions
    :func:`find_gaps` and :func:`find_overlaps` within one layer.
measure
    What every measurement shares: codes checked, invalid geometry repaired.
engine
    The exact overlap engine on shared edges (internal).
"""
