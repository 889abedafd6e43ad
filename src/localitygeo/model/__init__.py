"""The model: a boundary set (layers, nesting rules, checks) and the blocks layers are built from.

Modules
-------
boundary_set
    :class:`BoundarySet`, :class:`NestingRule`, :class:`Checks`.
blocks
    Layers built from blocks (output areas, LSOAs) through a lookup.
lookups
    Lookup files: which unit each block is in (and, for a layer without a
    file, its units' names).
"""
