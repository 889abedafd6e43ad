"""How a choropleth reads: palettes, which end is darkest, classes and legend numbers.

- :func:`palette` returns ``k`` colours of a named ColorBrewer or matplotlib
  scheme (as folium's colour library ships them), ordered from light to dark, so that the
  caller can put the darkest colour on the worse end of an indicator.
- :func:`classify` puts values into mapclassify classes and refuses, in one
  line, what mapclassify cannot do.
- :func:`number_format` chooses one way of writing an indicator's numbers
  (integers as integers, decimals only as many as tell the classes apart,
  thousands separators) for its legend and tooltips.
- :func:`readable` turns a column name into a legend title.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import numpy as np

from localitygeo.errors import DataError, warn

__all__ = [
    "DEFAULT_PALETTE",
    "MAX_COLOURS",
    "SCHEMES",
    "Classes",
    "classify",
    "luminance",
    "number_format",
    "palette",
    "palette_names",
    "readable",
]

#: Classification schemes (mapclassify class names) by the names users give.
SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "NaturalBreaks",
    "equal_interval": "EqualInterval",
}

#: The default palette: ColorBrewer's orange-red, sequential and colour-blind safe.
DEFAULT_PALETTE = "OrRd"

#: Most colours a palette gives (ColorBrewer's schemes interpolated).
MAX_COLOURS = 253

_ACRONYMS = {"imd", "iod", "idaci", "idaopi", "lsoa", "msoa", "oa", "ons", "nhs", "gp", "lad"}


@cache
def _schemes() -> dict[str, str]:
    """Return each scheme's kind ("Sequential", "Diverging", "Qualitative") by its name."""
    import json
    from importlib import resources

    text = resources.files("branca").joinpath("scheme_info.json").read_text(encoding="utf-8")
    info: dict[str, str] = json.loads(text)
    return info


def palette_names() -> list[str]:
    """Return the names of the palettes a choropleth can use (sequential and diverging).

    Returns
    -------
    list of str
        ColorBrewer names (``"OrRd"``, ``"Blues"``, ``"RdYlBu"``...) and the
        matplotlib names shipped with them (``"viridis"``, ``"magma"``,
        ``"inferno"``, ``"plasma"``), sorted case-insensitively.
    """
    return sorted((n for n, kind in _schemes().items() if kind != "Qualitative"), key=str.lower)


def _resolve(name: str) -> tuple[str, bool]:
    """Return the scheme's own spelling of ``name`` and whether ``_r`` reversed it."""
    if not isinstance(name, str):
        raise DataError(f"a palette is named by text, not {name!r}")
    base, flipped = (name[:-2], True) if name.lower().endswith("_r") else (name, False)
    by_lower = {n.lower(): n for n in _schemes()}
    found = by_lower.get(base.lower())
    if found is None:
        raise DataError(
            f"unknown palette {name!r}; choose from {', '.join(palette_names())} "
            "(add _r to reverse one)"
        )
    if _schemes()[found] == "Qualitative":
        raise DataError(
            f"palette {found!r} is qualitative (unordered colours); a choropleth needs a "
            f"sequential or diverging one, such as {DEFAULT_PALETTE} or viridis"
        )
    return found, flipped


def luminance(colour: str) -> float:
    """Return the relative luminance (WCAG) of a ``#rrggbb`` colour, 0 (black) to 1 (white).

    Parameters
    ----------
    colour : str
        ``#rrggbb`` or ``rgb(r, g, b)``, as a browser reports a fill.

    Returns
    -------
    float
        ``0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB channels.
    """
    match = re.fullmatch(r"\s*rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*", colour)
    if match:
        channels = [int(c) / 255 for c in match.groups()]
    else:
        text = colour.lstrip("#")
        channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def palette(name: str, k: int, *, reverse: bool = False) -> list[str]:
    """Return ``k`` colours of a named palette, from light to dark.

    Parameters
    ----------
    name : str
        A ColorBrewer or matplotlib palette name (see :func:`palette_names`),
        case-insensitive; a trailing ``_r`` reverses it, as in matplotlib.
    k : int
        Number of colours, 1 to :data:`MAX_COLOURS`. ColorBrewer's own
        scheme for ``k`` colours is used where it has one; more colours are
        interpolated between its longest scheme's.
    reverse : bool, default False
        Return the colours from dark to light instead (as does ``_r``; both
        together cancel out).

    Returns
    -------
    list of str
        ``#rrggbb`` colours, the lightest first (for a diverging palette,
        whose ends are about as light, the end that is darker first comes
        last).

    Raises
    ------
    DataError
        The name is unknown or qualitative, or ``k`` is out of range.
    """
    from branca.utilities import color_brewer

    found, flipped = _resolve(name)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_COLOURS:
        raise DataError(f"a palette has 1 to {MAX_COLOURS} colours, not {k!r}")
    colours = [c.lower() for c in color_brewer(found, max(int(k), 3))]
    if k < 3:
        colours = [colours[1]] if k == 1 else [colours[0], colours[2]]
    if luminance(colours[0]) < luminance(colours[-1]):
        colours.reverse()  # matplotlib's schemes run dark to light
    if flipped != reverse:
        colours.reverse()
    return colours


@dataclass(frozen=True)
class Classes:
    """Values put into classes.

    Attributes
    ----------
    index : numpy.ndarray
        Class of each value (0 is the lowest), -1 where the value is missing.
    count : int
        Number of classes drawn.
    lower, upper : tuple of float
        Each class's bounds: the lowest and highest value in it, or, for an
        empty class (equal intervals can have some), its interval.
    empty : tuple of bool
        Whether each class holds no value.
    """

    index: np.ndarray
    count: int
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    empty: tuple[bool, ...]


def classify(values: np.ndarray, scheme: str, k: int, what: str) -> Classes:
    """Put values into ``k`` classes with a mapclassify scheme.

    Parameters
    ----------
    values : numpy.ndarray
        Floats; NaN is missing (class -1).
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
        mapclassify scheme.
    k : int
        Number of classes: 1 up to the number of distinct values (for equal
        intervals, which may be empty, up to :data:`MAX_COLOURS`).
    what : str
        The indicator's name, for messages.

    Returns
    -------
    Classes
        The same on every run (natural breaks start from seeded random
        points). When ties leave quantiles or natural breaks fewer distinct classes
        than asked, the empty ones are dropped and a warning says so; equal
        intervals keep their empty classes.

    Raises
    ------
    DataError
        ``k`` is not a whole number from 1 to the number of distinct values
        (or :data:`MAX_COLOURS`), or mapclassify cannot classify the values
        (such as equal intervals of one value).
    """
    import mapclassify

    if scheme not in SCHEMES:
        raise DataError(f"unknown scheme '{scheme}'; choose from {', '.join(SCHEMES)}")
    ok = ~np.isnan(values)
    present = values[ok]
    distinct = len(np.unique(present))
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DataError(
            f"cannot draw {k!r} classes: the number of classes (-k) must be a whole number "
            "of at least 1"
        )
    if k > distinct and scheme != "equal_interval":
        raise DataError(
            f"cannot draw {k} classes of indicator '{what}': it has only {distinct} distinct "
            f"value{'s' if distinct != 1 else ''}, so -k can be at most {distinct}"
        )
    if k > MAX_COLOURS:
        raise DataError(f"cannot draw {k} classes: at most {MAX_COLOURS} colours")
    # Natural breaks are k-means from random starts drawn from numpy's global
    # generator (sklearn's, which takes no Generator here): seeded, so that a map
    # is drawn the same on every run, and restored after.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify's own notes; said once below
        try:
            classifier = getattr(mapclassify, SCHEMES[scheme])(present, k=int(k))
        except ValueError as exc:
            raise DataError(
                f"cannot classify indicator '{what}' into {k} {scheme} classes: {exc}"
            ) from None
        finally:
            np.random.set_state(state)  # noqa: NPY002
    bins = np.asarray(classifier.bins, dtype=float)
    yb = np.asarray(classifier.yb, dtype=int)
    counts = np.bincount(yb, minlength=len(bins))
    keep = np.ones(len(bins), dtype=bool) if scheme == "equal_interval" else counts > 0
    if not keep.all() or len(bins) < k:
        warn(
            f"indicator '{what}': only {int(keep.sum())} of {k} {scheme} classes hold values "
            "(ties); drawing those"
        )
    renumber = np.cumsum(keep) - 1
    index = np.full(len(values), -1)
    index[ok] = renumber[yb]
    lower, upper, empty = [], [], []
    edges = [float(present.min()), *bins[:-1]]
    for c in np.flatnonzero(keep):
        members = present[yb == c]
        if len(members):
            lower.append(float(members.min()))
            upper.append(float(members.max()))
        else:
            lower.append(edges[c])
            upper.append(float(bins[c]))
        empty.append(not len(members))
    return Classes(index, int(keep.sum()), tuple(lower), tuple(upper), tuple(empty))


def _decimals(values: np.ndarray) -> int | None:
    """Return the decimals that show about three significant digits of the values' spread.

    None when every value is a whole number.
    """
    finite = values[np.isfinite(values)]
    if not len(finite) or np.all(finite == np.round(finite)):
        return None
    spread = float(finite.max() - finite.min()) or float(np.abs(finite).max())
    return int(min(6, max(0, 2 - np.floor(np.log10(spread)))))


def _written(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def number_format(
    values: np.ndarray, bounds: Sequence[tuple[float, float]] = ()
) -> Callable[[float], str]:
    """Return one way of writing an indicator's numbers, for its legend and tooltips.

    Parameters
    ----------
    values : numpy.ndarray
        The indicator's values (NaN for missing).
    bounds : sequence of (float, float)
        Class bounds (lowest, highest value) in order: decimals are added
        (up to six) until each class's highest value and the next class's
        lowest are written differently.

    Returns
    -------
    callable
        Maps a number to text: whole numbers when every value is whole,
        otherwise a fixed number of decimals (about three significant digits
        of the values' spread), always with thousands separators; missing
        values are written "–".
    """
    fractions = _decimals(np.asarray(values, dtype=float))
    decimals = fractions or 0
    if fractions is not None:
        while decimals < 6 and any(
            _written(hi, decimals) == _written(lo, decimals)
            for (_, hi), (lo, _) in pairwise(bounds)
        ):
            decimals += 1

    def write(value: float) -> str:
        if value is None or not np.isfinite(value):
            return "–"
        return _written(float(value), decimals)

    return write


def readable(column: str) -> str:
    """Return a column name as a title: ``"imd_rank"`` becomes ``"IMD rank"``.

    Underscores become spaces and the first letter a capital; a name written
    all in lower case has its known acronyms (IMD, LSOA...) in capitals, and
    any other name keeps its own capitals.
    """
    text = re.sub(r"[_\s]+", " ", str(column)).strip() or str(column)
    if text == text.lower():
        text = " ".join(w.upper() if w in _ACRONYMS else w for w in text.split(" "))
    return text[:1].upper() + text[1:]
