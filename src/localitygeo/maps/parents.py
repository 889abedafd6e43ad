"""Which layers of a set a map draws as outlines over the layer it colours.

:func:`~localitygeo.maps.locality_map` draws a layer's coarsest parent in bold
(the "localities") and another parent dashed (the "wards");
:func:`~localitygeo.maps.change_map` draws the parent a change realigns onto.
By default both are found from the set's nesting rules and the layers it
builds from blocks, so a set whose keys are ``lsoa``, ``msoa`` and ``wd`` is
drawn as well as the example city's ``neighbourhood``, ``locality`` and
``ward``. A key given by name must be a layer of the set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["Outline", "choose_outline", "coarsest_parent", "fixed_parent", "parents_of"]

#: A layer key; ``None``: find it in the set; ``False``: draw none.
Outline = str | Literal[False] | None


def parents_of(boundary_set: BoundarySet, layer: str) -> list[str]:
    """Return the layers ``layer`` nests in, nearest first.

    A layer nests in the parent of each of its nesting rules and in each
    layer built from its units, and, through them, in theirs.
    """
    found: list[str] = []
    frontier = [layer]
    while frontier:
        step: list[str] = []
        for child in frontier:
            up = [r.parent for r in boundary_set.nesting if r.child == child]
            up += [k for k, below in boundary_set.built_from.items() if below == child]
            step += [k for k in up if k != layer and k not in found and k not in step]
        found += step
        frontier = step
    return found


def _built_on(boundary_set: BoundarySet, key: str, layer: str) -> bool:
    """Return whether ``key`` is built from ``layer``'s units, directly or through others."""
    seen: set[str] = set()
    while key in boundary_set.built_from and key not in seen:
        seen.add(key)
        key = boundary_set.built_from[key]
        if key == layer:
            return True
    return False


def coarsest_parent(boundary_set: BoundarySet, layer: str) -> str | None:
    """Return the layer ``layer`` nests in that has the fewest units (None: there is none)."""
    parents = parents_of(boundary_set, layer)
    if not parents:
        return None
    return min(parents, key=lambda k: (len(boundary_set[k]), parents.index(k)))


def fixed_parent(boundary_set: BoundarySet, layer: str) -> str | None:
    """Return the nearest layer ``layer`` nests in that is not built from its units.

    That is the layer a change realigns onto (wards for neighbourhoods), the
    natural ``parents`` of :func:`~localitygeo.maps.change_map`; None when
    there is none.
    """
    return next(
        (k for k in parents_of(boundary_set, layer) if not _built_on(boundary_set, k, layer)),
        None,
    )


def choose_outline(
    boundary_set: BoundarySet, layer: str, key: Outline, found: str | None, role: str
) -> str | None:
    """Return the layer to draw for an outline option: ``key``, ``found`` or none.

    ``None`` takes ``found`` (what the set's rules give), ``False`` draws
    none, and a key must be a layer of the set (else the set's
    :class:`~localitygeo.errors.ManifestError`, naming ``role``).
    """
    from localitygeo.errors import ManifestError

    if key is False:
        return None
    if key is None:
        return found if found != layer else None
    if key not in boundary_set:
        raise ManifestError(
            f"{role}={key!r}: no layer '{key}'; the set has: {', '.join(boundary_set)}",
            path=boundary_set.path,
        )
    return key
