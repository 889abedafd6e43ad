"""Change: proposals, applying them, realigning to a layer, diffs and their impact.

Modules
-------
proposal
    :class:`Proposal` and :func:`read_proposal`.
operations, working_set
    :func:`apply`: a proposal applied to a set gives a new set.
realignment, planning
    :func:`realign`: the proposal that makes one layer nest in another.
differences
    :func:`diff`, :class:`Diff` and :func:`apply_moves` between two sets.
assessment, metrics
    :func:`impact`: what a change does to every unit.
report, report_tables, wording, templates
    The impact report an officer can put before a committee.
"""
