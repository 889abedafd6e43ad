"""Aggregate: move small-area figures to other layers and compare units.

Modules
-------
transfer, pairs, columns
    :func:`aggregate`: indicators apportioned from one layer to another.
imd
    :func:`imd_summary`: deprivation summaries of the English IMD.
comparison
    :func:`compare`: units of two layers side by side.
inequality
    Gini, Theil (with decomposition), Atkinson and the slope index.
"""
