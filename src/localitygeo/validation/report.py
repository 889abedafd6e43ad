"""The validation report: findings as a table, JSON and per-rule assignments."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

__all__ = ["ISSUE_COLUMNS", "SEVERITIES", "Issue", "ValidationReport"]

#: Columns of :attr:`ValidationReport.issues` (the fields of each JSON issue).
ISSUE_COLUMNS = ["rule", "severity", "layer", "codes", "area_m2", "message"]

#: Severities, most serious first.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Issue:
    """One finding of a validation rule.

    Attributes
    ----------
    rule : str
        Rule id, e.g. ``"not-nested"``.
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.
    layer : str
        Layer the finding is about (the child layer for nesting rules).
    codes : tuple of str
        Feature codes concerned.
    message : str
        One sentence a person can act on.
    area_m2 : float or None
        Area concerned, where the rule measures one.
    geometry : shapely geometry or None
        Where it is, for maps.
    """

    rule: str
    severity: str
    layer: str
    codes: tuple[str, ...]
    message: str
    area_m2: float | None = None
    geometry: Any = None


@dataclass
class ValidationReport:
    """What :func:`localitygeo.validate` found.

    Attributes
    ----------
    source : str
        The manifest (or set name) validated.
    issues : pandas.DataFrame
        One row per finding with columns :data:`ISSUE_COLUMNS`.
    assignments : dict of str to pandas.DataFrame
        For each nesting rule (``"child->parent"``), the best-fit table of
        :func:`localitygeo.best_fit`.
    notes : tuple of str
        What was done while reading (reprojections).
    crs : pyproj.CRS or None
        CRS of the issue geometries.
    """

    source: str
    issues: pd.DataFrame
    assignments: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    crs: CRS | None = None
    _geometries: Sequence[Any] = field(default_factory=list, repr=False)

    @classmethod
    def from_issues(
        cls,
        source: str,
        issues: Sequence[Issue],
        *,
        assignments: Mapping[str, pd.DataFrame] | None = None,
        notes: Sequence[str] = (),
        crs: CRS | None = None,
    ) -> ValidationReport:
        """Build a report from a list of :class:`Issue`, most serious first.

        Parameters
        ----------
        source : str
            The set the report describes (its folder or name).
        issues : sequence of Issue
            The findings.
        assignments : mapping of str to pandas.DataFrame, optional
            Best-fit tables by nesting rule id.
        notes : sequence of str, default ()
            What reading the set did (reprojections, CRS corrections).
        crs : pyproj.CRS, optional
            The CRS of the findings' geometries.

        Returns
        -------
        ValidationReport
            The report.
        """
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        ordered = sorted(issues, key=lambda i: (rank.get(i.severity, 9), i.layer, i.rule, i.codes))
        frame = pd.DataFrame(
            {
                "rule": [i.rule for i in ordered],
                "severity": [i.severity for i in ordered],
                "layer": [i.layer for i in ordered],
                "codes": [list(i.codes) for i in ordered],
                "area_m2": [i.area_m2 for i in ordered],
                "message": [i.message for i in ordered],
            },
            columns=ISSUE_COLUMNS,
        )
        frame["area_m2"] = frame["area_m2"].astype(float)
        return cls(
            source=source,
            issues=frame,
            assignments=dict(assignments or {}),
            notes=tuple(notes),
            crs=crs,
            _geometries=[i.geometry for i in ordered],
        )

    @property
    def ok(self) -> bool:
        """Return True when no finding has severity ``"error"``."""
        return not bool((self.issues["severity"] == "error").any())

    @property
    def summary(self) -> dict[str, int]:
        """Return counts of errors, warnings and infos."""
        counts = self.issues["severity"].value_counts()
        return {f"{s}s": int(counts.get(s, 0)) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (the JSON document)."""
        summary = self.summary
        return {
            "ok": self.ok,
            "source": self.source,
            "summary": {
                "errors": summary["errors"],
                "warnings": summary["warnings"],
                "infos": summary["infos"],
            },
            "notes": list(self.notes),
            "issues": [
                {
                    "rule": row.rule,
                    "severity": row.severity,
                    "layer": row.layer,
                    "codes": [str(c) for c in row.codes],
                    "area_m2": None
                    if row.area_m2 is None or math.isnan(row.area_m2)
                    else round(float(row.area_m2), 3),
                    "message": row.message,
                }
                for row in self.issues.itertuples(index=False)
            ],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the report as JSON text.

        Parameters
        ----------
        indent : int or None, default 2
            Indentation, or None for one line.

        Returns
        -------
        str
            ``{"ok", "source", "summary": {"errors", "warnings", "infos"},
            "notes", "issues": [{"rule", "severity", "layer", "codes",
            "area_m2", "message"}]}``.
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Return the findings that have a location, with their geometry."""
        import geopandas as gpd

        frame = self.issues.copy()
        return gpd.GeoDataFrame(frame, geometry=list(self._geometries), crs=self.crs)

    def __repr__(self) -> str:
        """Summarise the report on one line."""
        s = self.summary
        state = "ok" if self.ok else "errors"
        return (
            f"<ValidationReport {self.source}: {state}; {s['errors']} error(s), "
            f"{s['warnings']} warning(s)>"
        )
