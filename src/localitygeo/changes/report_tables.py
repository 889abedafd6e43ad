"""The rows of the impact report's tables: headings, names beside codes, numbers (internal).

Each function turns part of an :class:`~localitygeo.changes.assessment.Impact`
into rows of already formatted text cells, shared by the HTML, Markdown and
PDF renderings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from localitygeo.changes.assessment import Impact
from localitygeo.changes.metrics import VARIANCE_THRESHOLD
from localitygeo.changes.wording import nouns, unit_label

__all__ = ["decimals_for"]


def _num(value: Any, decimals: int = 0, *, signed: bool = False, suffix: str = "") -> str:
    """Format a number for people: thousands separators, fixed decimals, no NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    text = f"{float(value):{'+' if signed else ''},.{decimals}f}"
    if signed and float(text.replace(",", "").rstrip("%")) == 0:
        text = text.lstrip("+-")  # "0", never "+0" or "-0.0"
    return text + suffix


def _pct(value: Any, *, signed: bool = False) -> str:
    """Return a share (0.123) as a percentage with one decimal: ``12.3%``."""
    return _num(None if value is None else 100 * value, 1, signed=signed, suffix="%")


def decimals_for(values: Any) -> int:
    """Return the decimals to show a column of values with: fewer the larger they are.

    Every value of a column is shown with the same decimals: none from 100 up
    (a mean rank of 15,941.696 shows as 15,942, beside counts such as 3,177),
    one from 1 up, two below.
    """
    arr = np.abs(np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float))
    arr = arr[np.isfinite(arr)]
    big = float(arr.max()) if arr.size else 0.0
    return 0 if big >= 100 or big == 0 else 1 if big >= 1 else 2


def _indicator_decimals(im: Impact) -> dict[str, int]:
    """Per indicator column, the decimals its unit means are shown with (in every layer)."""
    out: dict[str, int] = {}
    for row in im.metrics.itertuples():
        mid = str(row.id)
        if mid.startswith("range:"):
            col = mid.split(":", 1)[1]
            values = [t[f"{col}_{side}"] for t in im.units.values() for side in ("before", "after")]
            out[col] = decimals_for(pd.concat(values)) if values else 0
    return out


def _title(im: Impact, key: str) -> str:
    return im.titles.get(key, key.replace("_", " "))


def _start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _metric_label(im: Impact, layer: str, mid: str, label: str) -> str:
    one, many = nouns(_title(im, layer))
    if mid == "units":
        return f"Number of {many}"
    if mid == "mean_population":
        return f"Average population of a {one}"
    if mid.startswith("share_off_mean_"):
        return f"{_start(many)} more than {VARIANCE_THRESHOLD:.0%} from the average population"
    if mid == "max_deviation":
        return "Largest difference from the average population"
    if mid == "mean_polsby_popper":
        return "Average compactness (Polsby-Popper: 1 is a circle)"
    if mid == "min_polsby_popper":
        return f"Compactness of the least compact {one}"
    if mid.startswith("split:"):
        key = mid.split(":", 1)[1]
        parent = nouns(_title(im, key))[0]
        basis = im.judged.get(f"{layer}->{key}")
        return f"{_start(many)} not within one {parent}" + (f" ({basis})" if basis else "")
    col = mid.split(":", 1)[1].replace("_", " ") if ":" in mid else ""
    if mid.startswith("range:"):
        return f"{col}: highest minus lowest {one} average"
    if mid.startswith("between_share:"):
        return f"{col}: share of inequality between {many}"
    return label


def _metric_rows(im: Impact) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {k: [] for k in im.layers}
    inds = _indicator_decimals(im)
    for row in im.metrics.itertuples():
        mid, layer = str(row.id), str(row.layer)
        if mid.startswith(("share_off_mean_", "between_share:")) or mid == "max_deviation":
            before, after = _pct(row.before), _pct(row.after)
            change = _num(100 * row.change, 1, signed=True, suffix=" pts")
        else:
            d = (
                2
                if mid.endswith("polsby_popper")
                else inds.get(mid.split(":", 1)[1], 0)
                if mid.startswith("range:")
                else 0
            )
            before, after = _num(row.before, d), _num(row.after, d)
            change = _num(row.change, d, signed=True)
        out[layer].append(
            {
                "id": mid,
                "metric": _metric_label(im, layer, mid, str(row.metric)),
                "before": before,
                "after": after,
                "change": change,
            }
        )
    return out


@dataclass(frozen=True)
class _Column:
    """A column of a unit table: its key, its group heading and its own heading."""

    key: str
    group: str
    head: str

    @property
    def flat(self) -> str:
        """The heading where there is no group row (Markdown)."""
        return f"{self.group} {self.head.lower()}" if self.group else self.head

    @property
    def numeric(self) -> bool:
        return self.key not in ("unit", "name", "status")


def _unit_columns(im: Impact, table: pd.DataFrame) -> list[_Column]:
    cols = [_Column("unit", "", "Code"), _Column("name", "", "Name")]
    cols.append(_Column("status", "", "Change"))
    if im.population:
        cols += [
            _Column("population_before", "People", "Before"),
            _Column("population_after", "People", "After"),
            _Column("population_change", "People", "Change"),
            _Column("population_change_pct", "People", "Change %"),
            _Column("deviation_before", "From the average", "Before"),
            _Column("deviation_after", "From the average", "After"),
        ]
    cols += [
        _Column("polsby_popper_before", "Compactness", "Before"),
        _Column("polsby_popper_after", "Compactness", "After"),
    ]
    for c in table.columns:
        if c.startswith("parents_") and c.endswith("_before"):
            parent = c[len("parents_") : -len("_before")]
            group = f"{_start(nouns(_title(im, parent))[1])} it spans"
            after = f"parents_{parent}_after"
            cols += [_Column(c, group, "Before"), _Column(after, group, "After")]
    for col in _indicator_decimals(im):
        group = col.replace("_", " ")
        cols += [_Column(f"{col}_before", group, "Before"), _Column(f"{col}_after", group, "After")]
    return cols


def _groups(columns: list[_Column]) -> list[tuple[str, int]]:
    """Return the group heading row: each group and how many columns it spans."""
    out: list[tuple[str, int]] = []
    for c in columns:
        if out and out[-1][0] == c.group and c.group:
            out[-1] = (c.group, out[-1][1] + 1)
        else:
            out.append((c.group, 1))
    return out


def _cell(key: str, value: Any, inds: dict[str, int]) -> str:
    if key in ("unit", "status"):
        return str(value)
    if key == "name":
        return "" if value is None or pd.isna(value) else str(value)
    if key.startswith("deviation"):
        return _pct(value, signed=True)
    if key == "population_change_pct":
        return _num(value, 1, signed=True, suffix="%")
    if key == "population_change":
        return _num(value, 0, signed=True)
    if key.startswith(("population", "parents")):
        return _num(value, 0)
    if key.startswith("polsby_popper"):
        return _num(value, 2)
    return _num(value, inds.get(key.rsplit("_", 1)[0], 0))


def _unit_rows(
    im: Impact,
) -> tuple[dict[str, list[_Column]], dict[str, list[dict[str, str]]]]:
    columns: dict[str, list[_Column]] = {}
    rows: dict[str, list[dict[str, str]]] = {}
    inds = _indicator_decimals(im)
    for layer, table in im.units.items():
        t = table[table["status"] != "unchanged"].reset_index()
        cols = _unit_columns(im, table)
        columns[layer] = cols
        rows[layer] = [
            {c.key: _cell(c.key, rec.get(c.key), inds) for c in cols}
            for rec in t.to_dict("records")
        ]
    return columns, rows


def _moved_rows(im: Impact) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {k: [] for k in im.layers}
    for r in im.moved.itertuples():
        out[str(r.layer)].append(
            {
                "block": unit_label(r.block, getattr(r, "block_name", None)),
                "from_unit": unit_label(r.from_unit, getattr(r, "from_name", None)),
                "to_unit": unit_label(r.to_unit, getattr(r, "to_name", None)),
                "population": _num(r.population, 0) if im.population else "–",
                "area": _num(r.area_m2 / 10_000, 1),
            }
        )
    return out
