"""Validate: rules run on a boundary set, the report they give, and its renderers.

Modules
-------
checks
    :func:`validate` and its rule registries.
judgement, block_shares
    :func:`judge_nesting`: how well each child nests in its parent layer.
findings
    The layer rules (codes, geometry, gaps, overlaps) as functions.
report
    :class:`ValidationReport`.
renderers
    Text, JSON, Markdown, HTML and GitHub annotations of a report.
"""
