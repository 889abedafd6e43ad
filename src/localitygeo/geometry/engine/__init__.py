"""Exact areas of every overlapping pair of polygons from two layers.

This is the engine behind :func:`localitygeo.best_fit`. It computes
``area(a_i ∩ b_j)`` for all pairs without building any intersection geometry,
from the boundaries alone (Green's theorem):

    area(A ∩ B) = ½ ∮ (x dy − y dx) over ∂(A ∩ B)
                = ½ [ Σ cross products along the parts of ∂A inside B
                    + Σ cross products along the parts of ∂B inside A ]

Rings are oriented so that the polygon's interior lies on the left of every
edge (shells counter-clockwise, holes clockwise). Along a ring, "inside the
other polygon" changes only where the ring crosses the other polygon's
boundary, and the direction of the crossing says which way. So the work is:

1. find the edge pairs (edge of A, edge of B) whose bounding boxes meet, with a
   uniform grid: parents' edges are bucketed once, each chunk of children
   looks up the cells its edges touch;
2. decide which pairs cross, with orientation tests that are exact (floating
   point where its error bound allows, exact rationals otherwise) and with
   degenerate cases (shared vertices, collinear shared edges) resolved by a
   symbolic perturbation: layer B is shifted by ε·(1, η), ε and η infinitely
   small. The perturbed configuration has only proper crossings and the areas
   are continuous in ε, so the result is the exact area of the unperturbed
   pair;
3. sort the crossings along each ring (per pair of ring and other polygon), and
   sum the cross products of the stretches between an "enter" and the next
   "exit";
4. rings with no crossing lie wholly inside or outside the other polygon: one
   point-in-polygon test (GEOS) decides, at a vertex not on the other boundary.

Every step checks what it relies on (crossings alternate enter/exit along
every ring; both sides of a crossing agree; a test vertex off the boundary
exists) and pairs that fail a check are computed with a GEOS overlay instead.

The package's modules follow those steps: :mod:`.rings` (layers as oriented
rings and edges), :mod:`.grid` (step 1), :mod:`.crossings` (step 2),
:mod:`.chunk` (steps 3 and 4 for one chunk of parents), :mod:`.engine`
(chunks over threads, GEOS fallback) and :mod:`.keys` (sorting helpers).
"""

from localitygeo.geometry.engine.engine import intersection_areas
from localitygeo.geometry.engine.types import NonFiniteError

__all__ = ["NonFiniteError", "intersection_areas"]
