"""Boundary-change proposals: what a change does, as data.

A proposal is a TOML file, kept under ``boundaries/<set>/proposals/``, with a
name, a description and an ordered list of operations::

    name = "Neighbourhoods onto wards"
    description = "The 2011-style review: every neighbourhood in one ward."

    [[operations]]
    op = "realign"            # move blocks so every unit nests in one parent
    layer = "neighbourhood"
    to = "ward"

    [[operations]]
    op = "move"               # a unit to another parent (a layer built from it)
    layer = "neighbourhood"
    unit = "EXN07"
    to = "EXL2"

    [[operations]]
    op = "reassign"           # blocks from one unit to another
    layer = "neighbourhood"
    blocks_layer = "small_area"   # optional: the layer the blocks are from
    blocks = ["EXA0001", "EXA0002"]
    to = "EXN05"

    [[operations]]
    op = "merge"
    layer = "neighbourhood"
    units = ["EXN01", "EXN02"]
    into = "EXN01"

    [[operations]]
    op = "split"
    layer = "neighbourhood"
    unit = "EXN03"
    parts = [{ code = "EXN03B", name = "Dunholt East", blocks = ["EXA0107"] }]

    [[operations]]
    op = "rename"
    layer = "neighbourhood"
    unit = "EXN04"
    name = "Calder Quay"

:func:`read_proposal` parses and checks a file; :func:`localitygeo.apply`
carries a proposal out on a boundary set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localitygeo.errors import ProposalError
from localitygeo.io.toml_read import read_toml

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OPERATIONS", "Operation", "Proposal", "read_proposal"]

_STR, _LIST, _BOOL, _PARTS = "a string", "a list of strings", "true or false", "a list of parts"
_NUM = "a number, at least 0"

#: Each operation's required and optional keys, with what each must be.
OPERATIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "move": ({"layer": _STR, "unit": _STR, "to": _STR}, {"parent": _STR, "reason": _STR}),
    "reassign": (
        {"layer": _STR, "blocks": _LIST, "to": _STR},
        {"blocks_layer": _STR, "from": _STR, "new": _BOOL, "name": _STR, "reason": _STR},
    ),
    "merge": ({"layer": _STR, "units": _LIST, "into": _STR}, {"name": _STR, "reason": _STR}),
    "split": ({"layer": _STR, "unit": _STR, "parts": _PARTS}, {"reason": _STR}),
    "rename": ({"layer": _STR, "unit": _STR}, {"name": _STR, "code": _STR, "reason": _STR}),
    "realign": (
        {"layer": _STR, "to": _STR},
        {"blocks": _STR, "population": _STR, "keep": _STR, "min_new": _NUM, "reason": _STR},
    ),
}
_TOP_KEYS = {"name", "description", "operations"}
_PART_KEYS = {"code", "name", "blocks"}


@dataclass(frozen=True)
class Operation:
    """One step of a proposal.

    Attributes
    ----------
    op : str
        One of :data:`OPERATIONS`.
    params : mapping
        Its keys (``layer``, ``unit``, ``to``...).
    position : int
        Its place in the proposal, from 1, for messages.
    """

    op: str
    params: Mapping[str, Any]
    position: int = 0

    @property
    def label(self) -> str:
        """Return ``"operation 3 (merge)"``, how messages name the step."""
        return f"operation {self.position} ({self.op})"

    def __getitem__(self, key: str) -> Any:
        """Return parameter ``key``."""
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Return parameter ``key``, or ``default`` when it is absent."""
        return self.params.get(key, default)


@dataclass(frozen=True)
class Proposal:
    """A named, ordered list of boundary-change operations.

    Attributes
    ----------
    name, description : str
        Shown in impact reports.
    operations : tuple of Operation
        Carried out in order by :func:`localitygeo.apply`.
    path : pathlib.Path or None
        The file it was read from.
    moves : pandas.DataFrame or None
        For proposals made by :func:`localitygeo.realign`: one row per block
        to move (``block``, ``from_unit``, ``to_unit``, ``parent``,
        ``population``, ``area_m2``, ``reason``).
    summary : tuple of str
        For proposals made by :func:`localitygeo.realign`: plain-language
        sentences (how nesting was judged, people moved, balance before and
        after, warnings). Not written to the file (the description is).
    """

    name: str
    description: str = ""
    operations: tuple[Operation, ...] = ()
    path: Path | None = None
    moves: pd.DataFrame | None = field(default=None, compare=False)
    summary: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | Path | None = None) -> Proposal:
        """Build and check a proposal from plain data (a parsed TOML file).

        Parameters
        ----------
        data : mapping
            The proposal's tables: ``name``, ``description``, ``operations``.
        path : str or pathlib.Path, optional
            The file the data came from, for messages.

        Returns
        -------
        Proposal
            The checked proposal.

        Raises
        ------
        ProposalError
            Unknown or missing keys, unknown operations, values of the wrong
            kind; the message names the file and the operation.
        """
        where = None if path is None else Path(path)
        if not isinstance(data, Mapping):
            raise ProposalError("a proposal must be a table", path=where)
        extra = sorted(set(data) - _TOP_KEYS)
        if extra:
            raise ProposalError(
                f"unknown key(s) {', '.join(extra)}; a proposal has {', '.join(sorted(_TOP_KEYS))}",
                path=where,
            )
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ProposalError("a proposal needs a 'name' (a string)", path=where)
        description = data.get("description", "")
        if not isinstance(description, str):
            raise ProposalError("'description' must be a string", path=where)
        raw_ops = data.get("operations")
        if not isinstance(raw_ops, list) or not raw_ops:
            raise ProposalError("a proposal needs at least one [[operations]] table", path=where)
        ops = tuple(_operation(raw, i, where) for i, raw in enumerate(raw_ops, start=1))
        return cls(name=name.strip(), description=description.strip(), operations=ops, path=where)

    def to_dict(self) -> dict[str, Any]:
        """Return the proposal as plain data (what :meth:`to_toml` writes)."""
        return {
            "name": self.name,
            "description": self.description,
            "operations": [{"op": o.op, **dict(o.params)} for o in self.operations],
        }

    def to_toml(self) -> str:
        """Return the proposal as the text of a proposal file.

        Returns
        -------
        str
            TOML that :func:`read_proposal` (and any TOML parser) reads back
            to an equal proposal, whatever the characters in its text.
        """
        from localitygeo.io import toml_write as _toml

        lines = [f"name = {_toml.value(self.name)}"]
        if self.description:
            lines.append(f"description = {_toml.value(self.description)}")
        for o in self.operations:
            lines += ["", "[[operations]]", f"op = {_toml.value(o.op)}"]
            lines += [f"{_toml.key(k)} = {_toml.value(v)}" for k, v in o.params.items()]
        return "\n".join(lines) + "\n"


def _kind_ok(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str) and bool(value.strip())
    if kind == _LIST:
        return (
            isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)
        )
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _NUM:
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return isinstance(value, list) and bool(value)


def _operation(raw: Any, position: int, path: Path | None) -> Operation:
    label = f"operation {position}"
    if not isinstance(raw, Mapping):
        raise ProposalError(f"{label} must be a table", path=path)
    op = raw.get("op")
    if op not in OPERATIONS:
        raise ProposalError(
            f"{label}: unknown op {op!r}; ops are: {', '.join(OPERATIONS)}", path=path
        )
    label = f"{label} ({op})"
    required, optional = OPERATIONS[op]
    params = {k: v for k, v in raw.items() if k != "op"}
    missing = [k for k in required if k not in params]
    if missing:
        raise ProposalError(f"{label}: missing key(s) {', '.join(missing)}", path=path)
    allowed = {**required, **optional}
    extra = sorted(set(params) - set(allowed))
    if extra:
        raise ProposalError(
            f"{label}: unknown key(s) {', '.join(extra)}; {op} takes {', '.join(allowed)}",
            path=path,
        )
    for key, value in params.items():
        if not _kind_ok(value, allowed[key]):
            raise ProposalError(f"{label}: '{key}' must be {allowed[key]}", path=path)
    if op == "split":
        for i, part in enumerate(params["parts"], start=1):
            if not isinstance(part, Mapping) or set(part) - _PART_KEYS:
                raise ProposalError(
                    f"{label}: part {i} must be a table with code, name and blocks", path=path
                )
            if not _kind_ok(part.get("code"), _STR) or not _kind_ok(part.get("blocks"), _LIST):
                raise ProposalError(
                    f"{label}: part {i} needs 'code' (a string) and 'blocks' "
                    "(a list of block codes)",
                    path=path,
                )
    if op == "rename" and "name" not in params and "code" not in params:
        raise ProposalError(f"{label}: give a new 'name', a new 'code' or both", path=path)
    return Operation(op=op, params=params, position=position)


def read_proposal(path: str | Path) -> Proposal:
    """Read and check a proposal file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML proposal file.

    Returns
    -------
    Proposal
        Its operations checked for form (unknown units or blocks are found
        when it is applied).

    Raises
    ------
    ProposalError
        The file is missing, empty, binary, not UTF-8, not TOML (line and
        column given) or nested too deeply, or an operation is malformed (its
        position and op given).
    """
    p = Path(path)
    return Proposal.from_dict(read_toml(p, ProposalError, "proposal file"), path=p)
