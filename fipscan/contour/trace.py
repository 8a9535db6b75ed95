"""Level-set tracing of the exclusion contour: closed polygons in (log m, log g) by continuation.

The excluded region is {F > 0} with F(x, y) = log N(x = log m, y = log g) - log N_limit on the
continuous yield surface of :mod:`fipscan.contour.differentiable`.  Its boundary is traced by
pseudo-arclength predictor-corrector continuation (Keller, "Numerical solution of bifurcation and
nonlinear eigenvalue problems", in *Applications of Bifurcation Theory*, Academic Press 1977;
Allgower & Georg, *Introduction to Numerical Continuation Methods*, SIAM Classics 2003, ch. 2 and 6):

* tangent: ``t = (F_y, -F_x)/|grad F|`` (perpendicular to the autodiff gradient), oriented so that the
  excluded region lies on the left -- outer boundaries run counter-clockwise, holes clockwise;
* predictor: w0 = z + h t (Euler step along the tangent);
* corrector: Newton on the bordered system [F(w) = 0, t . (w - z) - h = 0] (the pseudo-arclength
  constraint; A&G eq. (2.2.3)), Jacobian [[F_x, F_y], [t_x, t_y]];
* step control (A&G sec. 6.1): the step is rejected and halved when the corrector does not converge
  in ``max_newton`` iterations, when the first Newton correction exceeds a quarter of the step, when
  Newton does not contract, or when the tangent turns by more than ``max_angle``; it grows by 1.5
  (up to ``h_max``) after an easy step (<= 2 iterations, half the angle).  The angle bound limits the
  chord error of the polygon to about h * max_angle / 8.

The curve passes through the tip (highest mass) like any other point: lower and upper edges are one
level set.  Where the curve leaves the (log m, log g) box the region is closed along the box: the exit
point is solved for on the box side, the box boundary is walked counter-clockwise (corners become
vertices) until F changes sign again, and tracing resumes from that entry point (``touches_edge``).
A loop is closed when a step passes its starting point again with the same orientation.

Seeds are all sign changes of F on the coarse coupling grid at the interior mass nodes, refined by
safeguarded Newton (fipscan.kernels.roots.rtsafe, all seeds in one jitted call); every seed not yet on a
traced polygon starts a new region, so separate islands and a region split in two are found as long as
they cross a mass node (an island narrower than the node spacing is not seen). Every loop is bounded
(``max_steps``, ``h_min``): on failure a :class:`ContourTraceError` names the place and the fix, or with
``raise_on_failure=False`` the open polygon is returned with ``closed=False`` and the message.

Kinematic thresholds: the yields are read through the :class:`fipscan.searches.Search` protocol,
whose ``signal_ranges`` are the mass intervals where N is not identically zero.  Each is traced in
its own box, whose side at a threshold (N = 0 exactly beyond it, e.g. 2 m_mu for mu mu) is a wall:
a region reaching it is closed along it like along a box side, so it has its vertical edge at the
threshold (side name ``threshold``; it does not count as touching the box edge).  Roots on the box
sides use the scalar Brent solver (fipscan.stats._poisson.brentq): the box walk works for any F.

The brute-force reference (:func:`grid_regions`) evaluates the same surface on a dense grid and
extracts the level set by marching squares (Lorensen & Cline, SIGGRAPH '87, in two dimensions;
saddle cells resolved by the cell-centre average), closing regions along the box by padding the grid
with a zero-width ring of negative values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from fipscan.errors import FipscanError, InputError
from fipscan.kernels.roots import rtsafe
from fipscan.searches import as_search
from fipscan.stats._poisson import brentq

from .differentiable import YieldSurface, log_events_at

__all__ = [
    "Region",
    "TraceResult",
    "ContourTraceError",
    "trace_regions",
    "trace_tables",
    "trace_surface",
    "trace_level_set",
    "grid_regions",
    "marching_squares",
    "polygon_area",
    "polygon_distance",
]

BOX_SIDES = ("coupling_min", "mass_max", "coupling_max", "mass_min")  # counter-clockwise order
#: name of a box side that is a kinematic threshold of the search (not the end of the scanned range)
THRESHOLD_SIDE = "threshold"


class ContourTraceError(FipscanError):
    """Continuation could not follow or close a contour (names where and what to change)."""


@dataclass(frozen=True)
class Region:
    """One closed boundary of the excluded region in (x = ln m [GeV], y = ln g).

    vertices: (K, 2) ordered, the first vertex not repeated; counter-clockwise around excluded
    area (``hole`` = clockwise, an unexcluded pocket inside an excluded region).  n_evaluations:
    yield evaluations spent on this region (corrector, box walks); edges: the sides of the (mass,
    coupling) box the region is closed along (``threshold`` for a kinematic threshold, where the
    region really ends); touches_edge: it is closed along a side of the scanned box (the true region
    continues beyond); message: why it is not closed; n_bridges: stalls of the continuation passed by
    a chord to the next crossing on a small circle (``trace_level_set``'s ``bridge_radii``).
    """

    vertices: np.ndarray
    closed: bool
    touches_edge: bool
    n_evaluations: int
    n_steps: int
    edges: tuple[str, ...] = ()
    message: str = ""
    n_bridges: int = 0

    @property
    def masses(self) -> np.ndarray:
        return np.exp(self.vertices[:, 0])

    @property
    def couplings(self) -> np.ndarray:
        return np.exp(self.vertices[:, 1])

    @property
    def area(self) -> float:
        """Signed shoelace area in (ln m) x (ln g) units (positive counter-clockwise)."""
        return polygon_area(self.vertices)

    @property
    def hole(self) -> bool:
        return self.area < 0

    @property
    def tip(self) -> tuple[float, float]:
        """(mass [GeV], coupling) of the vertex with the highest mass."""
        k = int(np.argmax(self.vertices[:, 0]))
        return float(np.exp(self.vertices[k, 0])), float(np.exp(self.vertices[k, 1]))


@dataclass(frozen=True)
class TraceResult:
    """Regions plus the cost: yield evaluations for the seeds (grid + Newton) and for tracing."""

    regions: list[Region]
    n_seed_evaluations: int
    n_trace_evaluations: int
    seeds: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 2)))

    @property
    def n_evaluations(self) -> int:
        return self.n_seed_evaluations + self.n_trace_evaluations

    @property
    def area(self) -> float:
        return float(sum(r.area for r in self.regions))


# ----------------------------------------------------------------------------------------------------
# polygon utilities
# ----------------------------------------------------------------------------------------------------
def polygon_area(v) -> float:
    """Signed area of the polygon with vertices v (K, 2) (shoelace formula)."""
    v = np.asarray(v, float)
    if len(v) < 3:
        return 0.0
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _point_segment_distance(p, a, b):
    """Distances (P, S) from points p (P, 2) to segments [a, b] (S, 2) each."""
    ab = b - a
    L2 = np.einsum("ij,ij->i", ab, ab)
    L2 = np.where(L2 > 0, L2, 1.0)
    ap = p[:, None, :] - a[None, :, :]
    t = np.clip(np.einsum("psk,sk->ps", ap, ab) / L2, 0.0, 1.0)
    d = ap - t[..., None] * ab[None]
    return np.sqrt(np.einsum("psk,psk->ps", d, d))


def _closed_segments(v):
    v = np.asarray(v, float)
    return v, np.roll(v, -1, axis=0)


def polygon_distance(a, b, chunk=2048) -> float:
    """Symmetric Hausdorff distance between the closed polygons a and b (vertices (K, 2)): the largest
    distance from a vertex of one to the segments of the other (both ways)."""
    def one_way(p, poly):
        s0, s1 = _closed_segments(poly)
        worst = 0.0
        for i in range(0, len(p), chunk):
            d = _point_segment_distance(np.asarray(p[i:i + chunk], float), s0, s1).min(axis=1)
            worst = max(worst, float(d.max()))
        return worst

    return max(one_way(a, b), one_way(b, a))


# ----------------------------------------------------------------------------------------------------
# the continuation
# ----------------------------------------------------------------------------------------------------
class _Counted:
    """F and its gradient through jitted callables, counting every point evaluated."""

    def __init__(self, value_and_grad, values):
        self._vg = value_and_grad
        self._vals = values
        self.n = 0

    def vg(self, z):
        self.n += 1
        f, g = self._vg(float(z[0]), float(z[1]))
        return float(f), np.asarray(g, float)

    def value(self, z):
        return self.vg(z)[0]

    def values(self, pts):
        pts = np.asarray(pts, float).reshape(-1, 2)
        self.n += len(pts)
        return np.asarray(self._vals(pts[:, 0], pts[:, 1]), float)


class _Box:
    """The (x, y) domain; its boundary parametrised counter-clockwise by arclength sigma from (x0, y0)."""

    def __init__(self, x0, x1, y0, y1):
        self.x0, self.x1, self.y0, self.y1 = float(x0), float(x1), float(y0), float(y1)
        self.corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
        self.lengths = np.array([x1 - x0, y1 - y0, x1 - x0, y1 - y0], float)
        self.starts = np.concatenate([[0.0], np.cumsum(self.lengths)[:-1]])
        self.perimeter = float(self.lengths.sum())
        self.scale = max(x1 - x0, y1 - y0)

    def inside(self, z, tol=0.0):
        return (self.x0 - tol <= z[0] <= self.x1 + tol) and (self.y0 - tol <= z[1] <= self.y1 + tol)

    def point(self, sigma):
        sigma = np.mod(sigma, self.perimeter)
        k = min(int(np.searchsorted(self.starts, sigma, side="right") - 1), 3)
        d = (self.corners[(k + 1) % 4] - self.corners[k]) / self.lengths[k]
        return self.corners[k] + (sigma - self.starts[k]) * d, k

    def sigma_of(self, p, side):
        return self.starts[side] + float(np.linalg.norm(np.asarray(p) - self.corners[side]))

    def direction(self, side):
        return (self.corners[(side + 1) % 4] - self.corners[side]) / self.lengths[side]

    def exit(self, a, b):
        """First point where the segment a (inside) -> b leaves the box, and the side it crosses."""
        best, side = 2.0, None
        d = b - a
        for k, (coord, val) in enumerate(((1, self.y0), (0, self.x1), (1, self.y1), (0, self.x0))):
            if d[coord] == 0:
                continue
            lam = (val - a[coord]) / d[coord]
            if 0.0 <= lam <= 1.0:
                p = a + lam * d
                other = 1 - coord
                lo, hi = (self.x0, self.x1) if other == 0 else (self.y0, self.y1)
                if lo - 1e-12 <= p[other] <= hi + 1e-12 and lam < best:
                    best, side = lam, k
        if side is None:
            return None, None
        p = a + best * d
        p[0] = min(max(p[0], self.x0), self.x1)
        p[1] = min(max(p[1], self.y0), self.y1)
        return p, side


def _line_root(F, point, sa, sb, fa, fb):
    """Root of f(s) = F(point(s)) between sa and sb, where fa = f(sa) and fb = f(sb) differ in sign
    (the given end values are used as they are), by the scalar Brent solver to 1e-12 in s."""
    known = {float(sa): float(fa), float(sb): float(fb)}

    def f(s):
        s = float(s)
        return known[s] if s in known else F.value(point(s))

    return brentq(f, float(sa), float(sb), xtol=1e-12)


def _bridge(F, z, t, radii, box):
    """Past a stall: the next point of the level set ahead of z, on the smallest circle of the given radii
    around z that has one.  On a circle the curve through z crosses where F goes from < 0 to >= 0
    counter-clockwise (ahead: the region lies on the left of t) and where it goes from >= 0 to < 0 (behind).
    Of the ahead-type crossings inside the box the one at the smallest angle from t is refined by Brent on
    the angle; at the tip of a thin unexcluded crack the only one is almost straight behind (the other side
    of the crack: a hairpin), so the circle is sampled densely there too.  Returns (point, radius) or
    (None, None).  Structure of the level set smaller than the radius is bridged by one chord (its error
    is below the radius)."""
    base = math.atan2(t[1], t[0])
    back = np.concatenate([np.linspace(0.9 * math.pi, math.pi, 200, endpoint=False),
                           np.linspace(-math.pi, -0.9 * math.pi, 200, endpoint=False)])
    phis = base + np.sort(np.concatenate([np.linspace(-0.9 * math.pi, 0.9 * math.pi, 73), back]))
    for r in radii:
        def point(phi, r=r):
            return z + r * np.array([math.cos(phi), math.sin(phi)])

        pts = z[None, :] + r * np.column_stack([np.cos(phis), np.sin(phis)])
        vals = F.values(pts)
        n = len(phis)
        cands = [k for k in range(n) if vals[k] < 0 <= vals[(k + 1) % n]
                 and box.inside(pts[k]) and box.inside(pts[(k + 1) % n])]
        if not cands:
            continue
        k = min(cands, key=lambda j: abs(phis[j] - base))
        hi = phis[(k + 1) % n] + (2 * math.pi if k == n - 1 else 0.0)
        phi = _line_root(F, point, phis[k], hi, vals[k], vals[(k + 1) % n])
        return point(phi), r
    return None, None


def _tangent(g):
    n = math.hypot(g[0], g[1])
    if n == 0 or not math.isfinite(n):
        return None
    return np.array([g[1], -g[0]]) / n


@dataclass(frozen=True)
class _Options:
    h0: float
    h_max: float
    h_min: float
    max_angle: float
    max_newton: int
    max_steps: int
    xtol: float
    walk_step: float
    h_kink: float


def _corrector(F, z, t, h, opt, corner=False):
    """Pseudo-arclength Newton corrector from the predictor z + h t.  Returns (ok, w, f, g, iters).

    corner: a step at a corner of the level set (``h <= h_kink``): the predictor may start far from the
    curve (the tangent turns by a finite angle there), so the first correction is not bounded by h / 4."""
    w = z + h * t
    prev = None
    for k in range(opt.max_newton):
        f, g = F.vg(w)
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            return False, w, f, g, k
        J = np.array([[g[0], g[1]], [t[0], t[1]]])
        r = np.array([f, float(t @ (w - z)) - h])
        det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
        if det == 0 or not math.isfinite(det):
            return False, w, f, g, k
        delta = -np.linalg.solve(J, r)
        nd = float(np.hypot(*delta))
        if k == 0 and nd > 0.25 * h and not corner:
            return False, w, f, g, k  # predictor too far from the curve: step too long
        if prev is not None and nd > 0.5 * prev and nd > opt.xtol:
            return False, w, f, g, k  # Newton is not contracting
        w = w + delta
        prev = nd
        if nd <= opt.xtol * (1.0 + float(np.abs(w).max())):
            f, g = F.vg(w)
            return math.isfinite(f), w, f, g, k + 1
    return False, w, f, g, opt.max_newton


def _refine_on_side(F, box, p0, side, span):
    """The root of F on box side ``side`` nearest to p0, bracketed by growing steps (None if none)."""
    d = box.direction(side)
    c0 = box.corners[side]
    s0 = float(np.dot(p0 - c0, d))
    L = box.lengths[side]

    def point(s):
        return c0 + s * d

    f0 = F.value(point(s0))
    if f0 == 0:
        return point(s0)
    step = max(span, 1e-9)
    for _ in range(60):
        for s1 in (s0 - step, s0 + step):
            s1 = min(max(s1, 0.0), L)
            f1 = F.value(point(s1))
            if f1 * f0 <= 0:
                return point(_line_root(F, point, s0, s1, f0, f1))
        if step >= L:
            break
        step *= 2.0
    # the doubling steps can jump over a region narrower than themselves on the side (e.g. the resonant
    # spike of ALP-meson mixing, 1e-4 of the mass wide): sample the side at geometric distances from s0
    # (1e-6 to 1e2 spans, both ways, one batched evaluation) and take the sign change nearest to s0
    dist = max(span, 1e-9) * np.geomspace(1e-6, 1e2, 160)
    ss = np.clip(np.concatenate([s0 - dist[::-1], [s0], s0 + dist]), 0.0, L)
    ss = np.unique(ss)
    fs = F.values(np.stack([point(v) for v in ss]))
    change = np.nonzero(np.signbit(fs[1:]) != np.signbit(fs[:-1]))[0]
    if change.size == 0:
        return None
    k = change[np.argmin(np.abs(0.5 * (ss[change] + ss[change + 1]) - s0))]
    return point(_line_root(F, point, ss[k], ss[k + 1], fs[k], fs[k + 1]))


def _walk_box(F, box, p, side, opt, max_turns=1.0):
    """From exit point p on ``side`` walk the box counter-clockwise while F >= 0.  Returns (vertices
    (corners passed and the entry point), entry point, entry side, sides touched), entry None if the
    whole boundary is inside the region."""
    sigma0 = box.sigma_of(p, side)
    verts, touched = [], {side}
    sigma = sigma0
    travelled = 0.0
    while travelled < max_turns * box.perimeter:
        k = min(int(np.searchsorted(box.starts, np.mod(sigma, box.perimeter), side="right") - 1), 3)
        end = box.starts[k] + box.lengths[k]
        base = sigma - np.mod(sigma, box.perimeter)  # whole turns already made
        s_end = base + end
        n = max(2, int(math.ceil((s_end - sigma) / opt.walk_step)) + 1)
        ss = np.linspace(sigma, s_end, n)[1:]
        pts = np.array([box.point(s)[0] for s in ss])
        vals = F.values(pts)
        neg = np.nonzero(vals < 0)[0]
        touched.add(k)
        if neg.size:
            j = int(neg[0])
            sa = sigma if j == 0 else ss[j - 1]
            d = box.direction(k)

            def point(s, k=k, d=d, base=base):
                return box.corners[k] + (s - box.starts[k] - base) * d

            fa = F.value(point(sa))
            fb = float(vals[j])
            if fa <= 0:  # the walk starts exactly on the root (sa == sigma0): nudge
                fa = abs(fa) + 1e-300
            q = point(_line_root(F, point, sa, ss[j], fa, fb))
            return verts, q, k, touched
        verts.append(box.corners[(k + 1) % 4].copy())
        travelled += s_end - sigma
        sigma = s_end
    return verts, None, None, touched


def trace_level_set(value_and_grad, values, seeds, box, *, h0=0.05, h_max=0.2, h_min=1e-7,
                    max_angle=0.05, max_newton=8, max_steps=20000, xtol=1e-11, walk_step=None,
                    raise_on_failure=True, seed_tol=None, side_names=None, h_kink=None,
                    bridge_radii=(1e-6, 1e-5, 1e-4, 1e-3), max_bridges=200) -> tuple[list[Region], int]:
    """Trace every closed component of {F = 0} through ``seeds`` (points on the level set).

    value_and_grad(x, y) -> (F, (F_x, F_y)); values(xs, ys) -> F at many points; box = (x0, x1, y0, y1).
    side_names: names of the box sides (bottom, right, top, left; default :data:`BOX_SIDES`), e.g.
    ``threshold`` for a side that is a kinematic threshold (it does not set ``touches_edge``).
    h_kink: steps this short (default 8 h_min) may turn by any angle short of a reversal (a corner of the
    level set where it crosses a mass node of a piecewise-interpolated surface with a steep spike, e.g.
    an ALP-meson mixing pole; the chord error there is below h_kink).
    bridge_radii, max_bridges: where the step falls below h_min (structure of the level set finer than the
    continuation resolves, e.g. the notch of a mixing pole regulated at 1e-5 of the meson mass), the curve
    is continued from the next crossing ahead on a small circle (:func:`_bridge`, the smallest radius
    with one), at most max_bridges times per region; the number of bridges is kept on the Region.
    Returns (regions, evaluations).  See the module docstring for the algorithm and its controls.
    """
    names = tuple(BOX_SIDES if side_names is None else side_names)
    if len(names) != 4:
        raise InputError(f"side_names needs four names (bottom, right, top, left), got {names}")
    F = _Counted(value_and_grad, values)
    B = _Box(*box)
    opt = _Options(h0, h_max, h_min, max_angle, max_newton, max_steps, xtol,
                   walk_step if walk_step is not None else h_max / 2, 8.0 * h_min if h_kink is None else h_kink)
    seeds = [np.asarray(s, float) for s in seeds]
    done = np.zeros(len(seeds), bool)
    regions = []
    seed_tol = seed_tol if seed_tol is not None else max(1e-6, 2.0 * h_max * max_angle)
    cos_max = math.cos(max_angle)
    for i0, s0 in enumerate(seeds):
        if done[i0]:
            continue
        n0 = F.n
        f, g = F.vg(s0)
        t0 = _tangent(g)
        if t0 is None:
            done[i0] = True
            continue
        z, t, h = s0.copy(), t0.copy(), h0
        verts = [z.copy()]
        touched: set[int] = set()
        closed, message, steps, n_bridges = False, "", 0, 0
        while steps < opt.max_steps:
            steps += 1
            # ---- one continuation step with step-length adaptation
            while True:
                corner = h <= opt.h_kink
                ok, w, fw, gw, iters = _corrector(F, z, t, h, opt, corner)
                tw = _tangent(gw) if ok else None
                cosang = float(t @ tw) if tw is not None else -1.0
                if ok and tw is not None and (cosang >= cos_max or (corner and cosang > -0.999)):
                    break
                h *= 0.5
                if h < opt.h_min:
                    q, r = (_bridge(F, z, t, bridge_radii, B) if n_bridges < max_bridges else (None, None))
                    if q is not None:
                        fq, gq = F.vg(q)
                        tq = _tangent(gq)
                        if tq is not None and math.isfinite(fq):
                            ok, w, fw, gw, tw, iters, cosang = True, q, fq, gq, tq, max_newton, -1.0
                            n_bridges += 1
                            h = max(4.0 * opt.h_min, 0.5 * r)
                            break
                    message = (f"continuation stalled at m = {math.exp(z[0]):.6g} GeV, g = {math.exp(z[1]):.6g}: "
                               f"step below h_min = {opt.h_min:g} (a singular point of the yield surface?); "
                               "use a finer mass grid or a larger h_min")
                    break
            if message:
                break
            step_len = float(np.hypot(*(w - z)))
            # ---- leaving the box: close along the box and resume at the entry point
            if not B.inside(w):
                p0, side = B.exit(z, w)
                p = _refine_on_side(F, B, p0, side, max(step_len, 1e-6)) if p0 is not None else None
                if p is None:
                    message = (f"could not locate where the contour leaves the box near m = {math.exp(w[0]):.6g} "
                               f"GeV, g = {math.exp(w[1]):.6g}; widen the coupling or mass range")
                    break
                if _passes(s0, z, p, t0, t, len(verts)):
                    closed = True
                    break
                verts.append(p)
                corners, q, side_q, sides = _walk_box(F, B, p, side, opt)
                touched |= sides
                if q is None:
                    verts.extend(corners)
                    closed = True  # the whole box boundary lies in the region from here on
                    message = "region covers the rest of the box boundary"
                    break
                verts.extend(corners)
                verts.append(q)
                fq, gq = F.vg(q)
                tq = _tangent(gq)
                if tq is None:
                    message = f"zero gradient at the box entry point m = {math.exp(q[0]):.6g} GeV"
                    break
                z, t, h = q, tq, min(max(h, opt.h_min * 4), opt.h_max)
                continue
            # ---- closing the loop
            if _passes(s0, z, w, t0, tw, len(verts)):
                closed = True
                break
            verts.append(w.copy())
            z, t = w, tw
            if iters <= 2 and cosang >= math.cos(0.5 * max_angle):
                h = min(1.5 * h, opt.h_max)
        else:
            message = (f"contour not closed after max_steps = {opt.max_steps} continuation steps "
                       f"(at m = {math.exp(z[0]):.6g} GeV, g = {math.exp(z[1]):.6g}); raise max_steps or h_max")
        if message and not closed:
            if raise_on_failure:
                raise ContourTraceError(message)
        V = np.array(verts)
        edges = tuple(names[k] for k in sorted(touched))
        at_box = any(e != THRESHOLD_SIDE for e in edges)
        regions.append(Region(V, closed, at_box, F.n - n0, steps, edges, "" if closed else message, n_bridges))
        # seeds on this polygon belong to it
        rest = np.nonzero(~done)[0]
        if rest.size and len(V) >= 2:
            s0_, s1_ = _closed_segments(V) if closed else (V[:-1], V[1:])
            dist = _point_segment_distance(np.array([seeds[j] for j in rest]), s0_, s1_).min(axis=1)
            done[rest[dist <= seed_tol]] = True
        done[i0] = True
    return regions, F.n


def _passes(s0, a, b, t0, tb, n_verts):
    """True when the step a -> b passes the loop start s0 heading the same way (after >= 3 vertices)."""
    if n_verts < 3 or tb is None or float(t0 @ tb) < 0.5:
        return False
    ab = b - a
    L2 = float(ab @ ab)
    if L2 == 0:
        return False
    lam = float((s0 - a) @ ab) / L2
    if not -1e-9 <= lam <= 1.0 + 1e-9:
        return False
    dist = float(np.hypot(*(a + lam * ab - s0)))
    return dist <= 0.05 * math.sqrt(L2) + 1e-9


# ----------------------------------------------------------------------------------------------------
# the yield surface as F, seeds, and the public entry points
# ----------------------------------------------------------------------------------------------------
def _column(surface: YieldSurface, lnl, x, ys):
    return jax.vmap(lambda y: log_events_at(surface, x, y))(ys) - lnl


@jax.jit
def _vg(surface, lnl, x, y):
    return jax.value_and_grad(lambda z: log_events_at(surface, z[0], z[1]) - lnl)(jnp.stack([x, y]))


@jax.jit
def _vals(surface, lnl, xs, ys):
    return jax.vmap(lambda x, y: log_events_at(surface, x, y))(xs, ys) - lnl


@jax.jit
def _grid_columns(surface, lnl, xs, ys):
    return jax.lax.map(lambda x: _column(surface, lnl, x, ys), xs)


#: tolerance [in ln g] and iteration bound of the seed roots
_SEED_XTOL = 1e-12
_SEED_ITER = 80


@jax.jit
def _refine_seeds(surface, lnl, xs, neg, pos):
    """Roots in y of F(x, .) for every seed bracket at once: rtsafe from F < 0 at ``neg`` to F >= 0 at
    ``pos`` (kernels.roots, stopping at 1e-12 in y).  Returns (y, evaluations per root)."""
    def one(x, a, b):
        vg = jax.value_and_grad(lambda y: log_events_at(surface, x, y) - lnl)

        def fdf(y):
            f, g = vg(y)
            return f, g, ()

        r = rtsafe(fdf, a, b, n_iter=_SEED_ITER, xtol=_SEED_XTOL)
        return r.x, r.n_eval

    return jax.vmap(one)(xs, neg, pos)


def _seeds(surface, lnl, columns, ygrid, F: _Counted):
    """All sign changes of F on ygrid at the given x columns, refined by rtsafe in y (one jitted call,
    padded to a power of two so that the compiled program is reused)."""
    vals = np.asarray(_grid_columns(surface, lnl, jnp.asarray(columns), jnp.asarray(ygrid)))
    F.n += vals.size
    xs, neg, pos = [], [], []
    for x, f in zip(columns, vals):
        above = f >= 0
        for j in np.nonzero(above[:-1] != above[1:])[0]:
            xs.append(x)
            a, b = (j, j + 1) if f[j] < 0 else (j + 1, j)
            neg.append(ygrid[a])
            pos.append(ygrid[b])
    n = len(xs)
    if n == 0:
        return np.zeros((0, 2))
    size = max(8, 1 << (n - 1).bit_length())
    pad = size - n  # zero-width brackets: one evaluation each
    dtype = np.dtype(surface.dtype)
    xs_, neg_, pos_ = (np.asarray(list(v) + [v[0]] * pad, dtype) for v in (xs, neg, pos))
    pos_[n:] = neg_[n:]
    y, n_eval = _refine_seeds(surface, lnl, xs_, neg_, pos_)
    F.n += int(np.sum(np.asarray(n_eval)[:n]))
    return np.column_stack([np.asarray(xs, float), np.asarray(y, float)[:n]])


def trace_surface(surface: YieldSurface, log_n_limit, y_range, *, x_range=None, seed_columns=None,
                  n_seed_grid=96, **options) -> TraceResult:
    """Trace {log N = log_n_limit} on ``surface`` inside x_range (default: the mass nodes) x y_range.

    seed_columns: x values where seeds are searched (default: the interior mass nodes inside x_range);
    n_seed_grid: coupling points per seed column.  ``options`` go to :func:`trace_level_set`
    (including ``side_names``).
    """
    dtype = surface.dtype
    xn = np.asarray(surface.x_nodes, float)
    x0, x1 = (xn[0], xn[-1]) if x_range is None else (float(x_range[0]), float(x_range[1]))
    y0, y1 = float(y_range[0]), float(y_range[1])
    if not (x0 < x1 and y0 < y1):
        raise InputError(f"empty tracing box: x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]")
    if x0 < xn[0] - 1e-12 or x1 > xn[-1] + 1e-12:
        raise InputError(f"mass range [{math.exp(x0):.4g}, {math.exp(x1):.4g}] GeV leaves the tabulated masses "
                         f"[{math.exp(xn[0]):.4g}, {math.exp(xn[-1]):.4g}] GeV")
    lnl = jnp.asarray(log_n_limit, dtype)
    if seed_columns is None:
        inner = xn[(xn > x0) & (xn < x1)]
        seed_columns = inner if inner.size else np.array([0.5 * (x0 + x1)])
    ygrid = np.linspace(y0, y1, int(n_seed_grid))

    np_dtype = np.dtype(dtype)  # numpy inputs: a jitted call takes them without a conversion dispatch

    def vg(x, y):
        return _vg(surface, lnl, np.asarray(x, np_dtype), np.asarray(y, np_dtype))

    def vals(xs, ys):
        return _vals(surface, lnl, np.asarray(xs, np_dtype), np.asarray(ys, np_dtype))

    counter = _Counted(vg, vals)
    seeds = _seeds(surface, lnl, np.asarray(seed_columns, float), ygrid, counter)
    n_seed = counter.n
    regions, n_trace = trace_level_set(vg, vals, seeds, (x0, x1, y0, y1), **options)
    return TraceResult(regions, n_seed, n_trace, seeds)


def trace_regions(tables, pot, n_limit, *, couplings=(1e-10, 1e-2), masses=None, **options) -> list[Region]:
    """Closed polygons of the excluded region of ``tables`` at ``pot`` protons on target and
    ``n_limit`` excluded signal events.

    couplings: (lo, hi) coupling box; masses: (lo, hi) [GeV] (default: the tabulated range).
    Returns a list of :class:`Region` (empty if nothing is excluded).  ``options``: see
    :func:`trace_surface` / :func:`trace_level_set` (h_max, max_angle, max_steps, ...).
    Use :func:`trace_surface` for the evaluation counts.
    """
    return trace_tables(tables, pot, n_limit, couplings=couplings, masses=masses, **options).regions


def trace_tables(tables, pot, n_limit, *, couplings=(1e-10, 1e-2), masses=None, **options) -> TraceResult:
    """:func:`trace_regions` returning the full :class:`TraceResult` (counts, seeds).

    tables: yield tables or any :class:`fipscan.searches.Search`.  Each of the search's
    ``signal_ranges`` inside the mass box is traced on its own surface and box, with a threshold end
    as a wall (module docstring); the regions of all ranges are returned together.
    """
    lo, hi = (float(c) for c in couplings)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise InputError(f"coupling range must satisfy 0 < lo < hi, got ({lo:g}, {hi:g})")
    if not (math.isfinite(float(pot)) and float(pot) > 0):
        raise InputError(f"pot must be positive, got {pot}")
    if not (math.isfinite(float(n_limit)) and float(n_limit) > 0):
        raise InputError(f"n_limit must be positive, got {n_limit}")
    search = as_search(tables)
    nodes = np.asarray(search.masses, float)
    if np.any(np.diff(nodes) <= 0):
        raise InputError("the yield tables' masses must be strictly increasing for the yield surface")
    m0, m1 = (nodes[0], nodes[-1]) if masses is None else (float(masses[0]), float(masses[1]))
    if not m0 < m1:
        raise InputError(f"empty mass range [{m0:g}, {m1:g}] GeV")
    if math.log(m0) < math.log(nodes[0]) - 1e-12 or math.log(m1) > math.log(nodes[-1]) + 1e-12:
        raise InputError(f"mass range [{m0:.4g}, {m1:.4g}] GeV leaves the tabulated masses "
                         f"[{nodes[0]:.4g}, {nodes[-1]:.4g}] GeV")
    y_range = (math.log(lo), math.log(hi))
    regions, n_seed, n_trace, seeds = [], 0, 0, []
    for r in search.signal_ranges():
        a, b = max(m0, r.lo), min(m1, r.hi)
        if not a < b:
            continue
        names = list(BOX_SIDES)
        if r.lo_threshold and r.lo > m0:
            names[3] = THRESHOLD_SIDE
        if r.hi_threshold and r.hi < m1:
            names[1] = THRESHOLD_SIDE
        whole = not (r.lo_threshold or r.hi_threshold)
        surface = search.surface(pot) if whole else search.surface(pot, (r.lo, r.hi))
        x_range = None if (whole and masses is None) else (math.log(a), math.log(b))
        res = trace_surface(surface, math.log(n_limit), y_range, x_range=x_range, side_names=tuple(names),
                            **options)
        regions += res.regions
        n_seed += res.n_seed_evaluations
        n_trace += res.n_trace_evaluations
        seeds.append(res.seeds)
    seeds = np.vstack(seeds) if seeds else np.zeros((0, 2))
    return TraceResult(regions, n_seed, n_trace, seeds)


# ----------------------------------------------------------------------------------------------------
# brute force: dense grid + marching squares
# ----------------------------------------------------------------------------------------------------
def marching_squares(values, xs, ys) -> list[np.ndarray]:
    """Closed polylines of {values = 0} on the grid (values[i, j] at (xs[i], ys[j])), each oriented with
    values > 0 on its left; every loop must close inside the grid (pad it, see :func:`grid_regions`).

    Lorensen & Cline (1987) in 2-D: per cell, crossings on the sign-changing edges by linear
    interpolation; saddle cells (two opposite corners above) split by the sign of the centre average.
    """
    V = np.asarray(values, float)
    xs = np.asarray(xs, float)
    ys = np.asarray(ys, float)
    nx, ny = V.shape
    A = V >= 0
    c0, c1, c2, c3 = A[:-1, :-1], A[1:, :-1], A[1:, 1:], A[:-1, 1:]  # bl, br, tr, tl
    case = c0.astype(np.int8) + 2 * c1 + 4 * c2 + 8 * c3
    ii, jj = np.nonzero((case != 0) & (case != 15))

    def edge_id(kind, i, j):  # kind 0: horizontal (i,j)-(i+1,j); 1: vertical (i,j)-(i,j+1)
        return 2 * (i * ny + j) + kind

    def crossing(kind, i, j):
        """Crossing on an edge in index coordinates (orientation tests never degenerate there, even in
        the zero-width padding cells)."""
        va, vb = (V[i, j], V[i + 1, j]) if kind == 0 else (V[i, j], V[i, j + 1])
        # a node exactly on the level counts as above: keep its crossing a hair inside the edge so that
        # no two crossings coincide (zero-length segments would have no orientation)
        t = min(max(va / (va - vb), 1e-9), 1.0 - 1e-9)
        return np.array([i + t, float(j)]) if kind == 0 else np.array([float(i), j + t])

    # cell edges: 0 bottom, 1 right, 2 top, 3 left
    def cell_edge(e, i, j):
        return [(0, i, j), (1, i + 1, j), (0, i, j + 1), (1, i, j)][e]

    corner_of_edge = [(0, 1), (1, 2), (2, 3), (3, 0)]
    nxt: dict[int, int] = {}
    points: dict[int, np.ndarray] = {}
    for i, j in zip(ii.tolist(), jj.tolist()):
        a = [A[i, j], A[i + 1, j], A[i + 1, j + 1], A[i, j + 1]]
        v = [V[i, j], V[i + 1, j], V[i + 1, j + 1], V[i, j + 1]]
        cut = [e for e in range(4) if a[corner_of_edge[e][0]] != a[corner_of_edge[e][1]]]
        if len(cut) == 2:
            pairs = [(cut[0], cut[1], None)]
        else:  # saddle: isolate the corners whose state differs from the centre average's
            centre_above = (sum(v) / 4.0) >= 0
            pairs = [((k - 1) % 4, k, k) for k in range(4) if a[k] != centre_above]
        corners = np.array([[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]], float)
        for ea, eb, k in pairs:
            ida, idb = edge_id(*cell_edge(ea, i, j)), edge_id(*cell_edge(eb, i, j))
            pa = points.setdefault(ida, crossing(*cell_edge(ea, i, j)))
            pb = points.setdefault(idb, crossing(*cell_edge(eb, i, j)))
            # orientation: F > 0 on the left.  Reference corner: the isolated one of a saddle, else the
            # corner farthest from the segment (never on it, even when a crossing sits on a node)
            d = pb - pa
            sides = d[0] * (corners[:, 1] - pa[1]) - d[1] * (corners[:, 0] - pa[0])
            if k is None:
                k = int(np.argmax(np.abs(sides)))
            if (sides[k] > 0) == bool(a[k]):
                nxt[ida] = idb
            else:
                nxt[idb] = ida

    def physical(q):
        i = min(int(math.floor(q[0])), nx - 2)
        j = min(int(math.floor(q[1])), ny - 2)
        return np.array([xs[i] + (q[0] - i) * (xs[i + 1] - xs[i]), ys[j] + (q[1] - j) * (ys[j + 1] - ys[j])])

    loops = []
    seen = set()
    for start in list(nxt):
        if start in seen:
            continue
        loop, e = [], start
        while e not in seen and e in nxt:
            seen.add(e)
            loop.append(physical(points[e]))
            e = nxt[e]
        if len(loop) >= 3:
            loops.append(_dedupe(np.array(loop)))
    return loops


def _dedupe(v):
    keep = np.ones(len(v), bool)
    keep[1:] = np.any(np.abs(np.diff(v, axis=0)) > 0, axis=1)
    return v[keep]


def grid_regions(surface: YieldSurface, log_n_limit, x_range, y_range, n=2000) -> tuple[list[np.ndarray], int]:
    """Brute-force reference: F on an n x n grid over the box, marching squares, regions closed along the
    box by a zero-width ring of negative padding (so loops follow the box sides exactly).
    Returns (loops, evaluations = n^2)."""
    dtype = surface.dtype
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[0], y_range[1], n)
    lnl = jnp.asarray(log_n_limit, dtype)
    V = np.asarray(_grid_columns(surface, lnl, jnp.asarray(xs, dtype), jnp.asarray(ys, dtype)))
    pad = -max(1.0, float(np.nanmax(np.abs(V[np.isfinite(V)]))) if np.isfinite(V).any() else 1.0)
    V = np.where(np.isfinite(V), V, pad)
    Vp = np.full((n + 2, n + 2), pad)
    Vp[1:-1, 1:-1] = V
    xp = np.concatenate([[xs[0]], xs, [xs[-1]]])
    yp = np.concatenate([[ys[0]], ys, [ys[-1]]])
    return marching_squares(Vp, xp, yp), n * n
