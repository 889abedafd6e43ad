"""Proper crossings between two layers' edges, decided exactly.

Orientation tests are floating point where Shewchuk's error bound allows and
exact rationals otherwise; degenerate cases are broken by a symbolic shift of
the parent layer (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from localitygeo.geometry.engine.rings import Shared
from localitygeo.geometry.engine.types import Array

__all__ = ["Crossings", "find_crossings", "spread_copies"]

# Shewchuk's error bound for the floating-point orientation test.
_ERRBOUND = 3.3306690738754716e-16
# Direction of the symbolic shift of the parent layer: any slope that no edge has.
_KAPPA = 0.6180339887498949


def _orient(ux: Array, uy: Array, vx: Array, vy: Array) -> tuple[Array, Array, Array, Array]:
    """cross(u, v): (value, error bound, certainty flag, exact-zero flag).

    The bound is Shewchuk's for the floating-point orientation test; a value
    whose factors include an exact 0 is exactly 0.
    """
    left = ux * vy
    right = uy * vx
    det = left - right
    bound = _ERRBOUND * (np.abs(left) + np.abs(right))
    zero = (left == 0) & (right == 0)
    sure = (np.abs(det) > bound) | zero
    return det, bound, sure, zero


def _exact_signs(ax: Array, ay: Array, bx: Array, by: Array, cx: Array, cy: Array) -> Array:
    """Exact sign of cross(b - a, c - a), in rationals (only for the few unsure cases)."""
    out = np.empty(len(ax))
    for k in range(len(ax)):
        a_x, a_y = Fraction(ax[k]), Fraction(ay[k])
        v = (Fraction(bx[k]) - a_x) * (Fraction(cy[k]) - a_y) - (Fraction(by[k]) - a_y) * (
            Fraction(cx[k]) - a_x
        )
        out[k] = (v > 0) - (v < 0)
    return out


def _shift_sign(x0: Array, y0: Array, x1: Array, y1: Array) -> Array:
    """Sign of cross(d, w) for d = (x1 - x0, y1 - y0) and the shift w = (1, κ), exact.

    If d is parallel to w (never, in practice) the shift's second-order part
    (0, 1) decides: the sign of d's x component.
    """
    dx, dy = x1 - x0, y1 - y0
    f = dx * _KAPPA - dy
    sign = np.sign(f)
    unsure = np.flatnonzero(np.abs(f) <= 1e-15 * (np.abs(dx) * _KAPPA + np.abs(dy)))
    for k in unsure:
        v = (Fraction(x1[k]) - Fraction(x0[k])) * Fraction(_KAPPA) - (
            Fraction(y1[k]) - Fraction(y0[k])
        )
        sign[k] = (v > 0) - (v < 0) if v != 0 else np.sign(dx[k])
    return sign


def _signs(
    det: Array,
    sure: Array,
    zero: Array,
    points: tuple[Array, Array, Array, Array, Array, Array],
    shifted: Callable[[Array], Array],
) -> tuple[Array, Array]:
    """Orientation signs, exact, with zeros broken by the symbolic shift of layer B.

    ``shifted(k)`` gives the sign that the shift gives the orientations ``k``
    that are exactly zero. Returns (sign, exactly-zero-before-the-shift).
    """
    sign = np.sign(det)
    zero = zero.copy()
    unsure = np.flatnonzero(~sure)
    if len(unsure):
        ax, ay, bx, by, cx, cy = (p[unsure] for p in points)
        # a point at either end of the edge is exactly on its line: no rationals
        # needed for the shared vertices and edges of layers built from blocks
        exact = np.zeros(len(unsure))
        rest = np.flatnonzero(((cx != ax) | (cy != ay)) & ((cx != bx) | (cy != by)))
        if len(rest):
            exact[rest] = _exact_signs(*(p[unsure[rest]] for p in points))
        sign[unsure] = exact
        zero[unsure] = exact == 0
    z = np.flatnonzero(zero)
    if len(z):
        sign[z] = shifted(z)
    return sign, zero


@dataclass(frozen=True)
class Crossings:
    """Proper crossings between child edges and parent edges (after the shift)."""

    a_edge: Array
    b_edge: Array
    t: Array  # position along the child edge ...
    t1: Array  # ... its ε and ε² terms (for ties) ...
    t2: Array
    t_err: Array  # ... and a bound on its rounding error (0: exactly a shared vertex)
    u: Array  # the same along the parent edge
    u1: Array
    u2: Array
    u_err: Array
    x: Array  # crossing point
    y: Array
    a_enters: Array  # the child ring enters the parent here
    consistent: Array  # both sides of the crossing agree (always, barring a bug)


def find_crossings(ea: Array, eb: Array, ia: Array, ib: Array) -> Crossings:
    """Test candidate pairs (child edge ia, parent edge ib) for proper crossings.

    Layer B (parents) is shifted by ε·(1, κ) + ε²·(0, 1), ε infinitely small:
    an orientation that is exactly zero takes the sign of its ε term (or of
    its ε² term if that vanishes). The direction κ is arbitrary, so that two
    crossings at one shared vertex are told apart by their ε terms.
    """
    ax, ay, bx, by = np.take(ea, ia, axis=1)  # edges are (4, N) rows
    px, py, qx, qy = np.take(eb, ib, axis=1)
    dx, dy = bx - ax, by - ay
    ex, ey = qx - px, qy - py
    # parent points against the child edge's line: orient(a, b, p + εw) = o_p + ε·cross(d, w)
    o_p, e_p, s, z = _orient(dx, dy, px - ax, py - ay)
    s_p, z_p = _signs(
        o_p, s, z, (ax, ay, bx, by, px, py), lambda k: _shift_sign(ax[k], ay[k], bx[k], by[k])
    )
    o_q, e_q, s, z = _orient(dx, dy, qx - ax, qy - ay)
    s_q, z_q = _signs(
        o_q, s, z, (ax, ay, bx, by, qx, qy), lambda k: _shift_sign(ax[k], ay[k], bx[k], by[k])
    )
    k = np.flatnonzero(s_p != s_q)
    ax, ay, bx, by, px, py, qx, qy = (v[k] for v in (ax, ay, bx, by, px, py, qx, qy))
    dx, dy, ex, ey = dx[k], dy[k], ex[k], ey[k]
    o_p, o_q, e_p, e_q, z_p, z_q, s_q = (v[k] for v in (o_p, o_q, e_p, e_q, z_p, z_q, s_q))
    # child points against the parent edge's line: orient(p', q', a) = o_a - ε·cross(e, w)
    o_a, e_a, s, z = _orient(ex, ey, ax - px, ay - py)
    s_a, z_a = _signs(
        o_a, s, z, (px, py, qx, qy, ax, ay), lambda k: -_shift_sign(px[k], py[k], qx[k], qy[k])
    )
    o_b, e_b, s, z = _orient(ex, ey, bx - px, by - py)
    s_b, z_b = _signs(
        o_b, s, z, (px, py, qx, qy, bx, by), lambda k: -_shift_sign(px[k], py[k], qx[k], qy[k])
    )
    h = np.flatnonzero(s_a != s_b)
    k = k[h]
    ax, ay, bx, by, px, py, qx, qy = (v[h] for v in (ax, ay, bx, by, px, py, qx, qy))
    dx, dy, ex, ey = dx[h], dy[h], ex[h], ey[h]
    o_p, o_q, o_a, o_b = o_p[h], o_q[h], o_a[h], o_b[h]
    e_p, e_q, e_a, e_b = e_p[h], e_q[h], e_a[h], e_b[h]
    z_p, z_q, z_a, z_b, s_q, s_b = z_p[h], z_q[h], z_a[h], z_b[h], s_q[h], s_b[h]
    with np.errstate(divide="ignore", invalid="ignore"):
        # t(ε) = (o_a − ε·cross(e, w) − ε²·cross(e, v)) / (o_a − o_b); likewise u(ε)
        den_t = o_a - o_b
        den_u = o_p - o_q
        t = np.clip(o_a / den_t, 0.0, 1.0)
        u = np.clip(o_p / den_u, 0.0, 1.0)
        t1, t2 = (ey - ex * _KAPPA) / den_t, -ex / den_t
        u1, u2 = (dx * _KAPPA - dy) / den_u, dx / den_u
        # a float that was not sure of its sign may be off by its whole size
        err_a = np.where(z_a, 0.0, np.maximum(e_a, np.abs(o_a) * (e_a >= np.abs(o_a))))
        err_b = np.where(z_b, 0.0, np.maximum(e_b, np.abs(o_b) * (e_b >= np.abs(o_b))))
        err_p = np.where(z_p, 0.0, np.maximum(e_p, np.abs(o_p) * (e_p >= np.abs(o_p))))
        err_q = np.where(z_q, 0.0, np.maximum(e_q, np.abs(o_q) * (e_q >= np.abs(o_q))))
        t_err = 2 * (err_a + err_b) / np.abs(den_t) + 4e-16
        u_err = 2 * (err_p + err_q) / np.abs(den_u) + 4e-16
        x = ax + t * dx
        y = ay + t * dy
        # a vertex exactly on the other edge's line is the crossing point itself
        for zz, tv, uv, xv, yv in (
            (z_b, 1.0, ((bx - px) * ex + (by - py) * ey) / (ex * ex + ey * ey), bx, by),
            (z_a, 0.0, ((ax - px) * ex + (ay - py) * ey) / (ex * ex + ey * ey), ax, ay),
            (z_q, ((qx - ax) * dx + (qy - ay) * dy) / (dx * dx + dy * dy), 1.0, qx, qy),
            (z_p, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, px, py),
        ):
            if zz.any():
                t = np.where(zz, tv, t)
                u = np.where(zz, uv, u)
                x = np.where(zz, xv, x)
                y = np.where(zz, yv, y)
        exact = z_a | z_b | z_p | z_q
        t_err = np.where(exact, 0.0, t_err)
        u_err = np.where(exact, 0.0, u_err)
    a_enters = s_b > 0
    return Crossings(
        ia[k], ib[k], t, t1, t2, t_err, u, u1, u2, u_err, x, y, a_enters, a_enters != (s_q > 0)
    )


def spread_copies(c: Crossings, sh: Shared) -> Crossings:
    """Crossings found on unique edges -> crossings on every edge sharing it."""
    start = sh.copy_start[c.a_edge]
    n = sh.copy_start[c.a_edge + 1] - start
    rec = np.repeat(np.arange(len(n)), n)
    edge = sh.copy[np.repeat(start - (np.cumsum(n) - n), n) + np.arange(len(rec))]
    f = sh.flipped[edge]
    t = c.t[rec]
    return Crossings(
        edge,
        c.b_edge[rec],
        np.where(f, 1.0 - t, t),
        np.where(f, -c.t1[rec], c.t1[rec]),
        np.where(f, -c.t2[rec], c.t2[rec]),
        c.t_err[rec],
        c.u[rec],
        c.u1[rec],
        c.u2[rec],
        c.u_err[rec],
        c.x[rec],
        c.y[rec],
        c.a_enters[rec] ^ f,
        c.consistent[rec],
    )
