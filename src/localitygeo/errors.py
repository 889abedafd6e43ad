"""Exceptions and warnings raised by localitygeo.

Every error a user can cause derives from :class:`LocalityGeoError`. Each
carries the file, layer and feature code it concerns (where known) and puts
them at the front of its message, so that one line is enough to find the
problem. The command line turns any of them into exit code 2.

Hierarchy::

    LocalityGeoError
    ├── InputError            a file cannot be read as asked
    │   ├── ColumnError       a named column is absent
    │   └── GeometryError     geometries are null, empty or of the wrong type
    ├── ManifestError         a boundaries.toml is malformed
    ├── CRSError              a CRS is missing, geographic or mismatched
    ├── DataError             indicator values are unusable
    ├── ProposalError         a boundary-change proposal cannot be applied
    └── OutputError           an output path is unsafe or cannot be written
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike

__all__ = [
    "CRSError",
    "ColumnError",
    "DataError",
    "GeometryError",
    "InputError",
    "LocalityGeoError",
    "LocalityGeoWarning",
    "ManifestError",
    "OutputError",
    "ProposalError",
    "format_codes",
    "missing_column",
    "warn",
]


def format_codes(codes: Iterable[object], limit: int = 5) -> str:
    """Return a short, human-readable list of codes.

    Parameters
    ----------
    codes : iterable
        The codes to list.
    limit : int, default 5
        How many to show before summarising the rest as ``and N more``.

    Returns
    -------
    str
        For example ``"E001, E002 and 3 more"``.
    """
    items = [str(c) for c in codes]
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def missing_column(
    column: str,
    columns: Iterable[object],
    *,
    role: str,
    layer: str | None = None,
    path: str | PathLike[str] | None = None,
) -> ColumnError:
    """Return the one error for a named column a layer or table lacks.

    Every stage that is told to weight or count by a column (``population=``,
    ``weight=``) and does not find it raises this, so the same mistake reads
    the same everywhere: the file, the layer, the column and what it is for.

    Parameters
    ----------
    column : str
        The column asked for.
    columns : iterable
        The columns there are, listed in the message.
    role : str
        What the column was for (``"population"``, ``"weight"``...).
    layer : str, optional
        The layer (or table) that lacks it.
    path : str or os.PathLike, optional
        The file the layer or table was read from.

    Returns
    -------
    ColumnError
        To raise.
    """
    have = [str(c) for c in columns if str(c) != "geometry"]
    return ColumnError(
        f"no column '{column}' for {role}; columns are: {format_codes(have, limit=20)}",
        path=path,
        layer=layer,
    )


class LocalityGeoError(Exception):
    """Base class of every error localitygeo raises on bad input.

    Parameters
    ----------
    message : str
        What went wrong and, ideally, what to do about it.
    path : str or os.PathLike, optional
        The file concerned.
    layer : str, optional
        The layer concerned (a manifest layer name or a file's layer).
    code : str, optional
        The feature code concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        layer: str | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.layer = layer
        self.code = code
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.layer:
            where.append(f"layer '{self.layer}'")
        if self.code:
            where.append(f"feature {self.code}")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InputError(LocalityGeoError):
    """A file is missing, unreadable, empty or not what it should be."""


class ColumnError(InputError):
    """A column named by the user does not exist."""


class GeometryError(InputError):
    """Geometries are null, empty or of a type the operation cannot use."""


class ManifestError(LocalityGeoError):
    """A ``boundaries.toml`` manifest is malformed or refers to something unknown."""


class CRSError(LocalityGeoError):
    """A coordinate reference system is missing, unsuitable or inconsistent."""


class DataError(LocalityGeoError):
    """Indicator data cannot be used as asked (bad numbers, weights or codes)."""


class ProposalError(LocalityGeoError):
    """A boundary-change proposal is malformed or cannot be applied."""


class OutputError(LocalityGeoError):
    """An output path is one of the inputs, or its folder cannot be written."""


class LocalityGeoWarning(UserWarning):
    """Something was done that the user should know about (nothing was lost)."""


def warn(message: str, stacklevel: int = 3) -> None:
    """Issue a :class:`LocalityGeoWarning` from library code.

    Parameters
    ----------
    message : str
        The warning text.
    stacklevel : int, default 3
        Passed to :func:`warnings.warn` so the warning points at user code.
    """
    import warnings

    warnings.warn(message, LocalityGeoWarning, stacklevel=stacklevel)
