"""Interactive maps of boundary sets: choropleths and safe, compact publishing.

- :func:`locality_map` draws a layer coloured by an indicator (classes from
  mapclassify) or, without one, by locality with neighbours never sharing a
  colour; locality outlines bold on top and wards as a toggleable layer.
- :func:`change_map` draws a layer before and after a change (the
  :class:`~localitygeo.Diff` from :func:`localitygeo.diff`) in two
  synchronised panes, with the moved blocks highlighted and a popup on each.
- :func:`simplify_coverage` simplifies a whole layer at once with shapely's
  ``coverage_simplify`` so no gaps or overlaps open between neighbours.
- :func:`save` writes the map as one HTML file, atomically, and returns its
  size; :func:`render_html` returns the same page as text.

No name or value from the data is ever part of a template or of script
source: each map's layers, tooltips, legend and labels are JSON data that a
constant script (``page.js``) draws, inserting every text with
``textContent`` (see :mod:`localitygeo.maps.page`).
"""

from __future__ import annotations

from localitygeo.maps.change import change_map
from localitygeo.maps.locality import locality_map
from localitygeo.maps.publish import render_html, save, simplify_coverage

__all__ = ["change_map", "locality_map", "render_html", "save", "simplify_coverage"]
