"""Level-set tracing: analytic shapes, the brute-force comparison, islands/edges/splits, bounds, output."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from types import SimpleNamespace

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fipscan.cli.main import main as cli_main
from fipscan.contour import (
    ContourTraceError,
    contour_problem,
    grid_regions,
    marching_squares,
    polygon_area,
    polygon_distance,
    surface_from_tables,
    tip,
    trace_level_set,
    trace_regions,
    trace_surface,
)
from fipscan.contour.per_mass import per_mass_contour
from fipscan.io.polygon import polygon_csv, save_polygon, write_polygon_h5
from fipscan.testing import toy_tables

POT = 1e18
N_LIMIT = 2.3
COUPLINGS = (1e-10, 1e-2)
Y_RANGE = (math.log(COUPLINGS[0]), math.log(COUPLINGS[1]))
#: the brief's accuracy target: 0.5% in log coupling (log mass near the tip) and in area
TOL = 5e-3


# ----------------------------------------------------------------------------------------------------
# analytic level sets (no physics): F = 1 - |z - c|^2 / r^2 and friends
# ----------------------------------------------------------------------------------------------------
def _analytic(fun):
    f = jax.jit(fun)
    vg = jax.jit(jax.value_and_grad(lambda z: fun(z[0], z[1])))

    def value_and_grad(x, y):
        v, g = vg(jnp.array([x, y]))
        return v, g

    def values(xs, ys):
        return jax.vmap(f)(jnp.asarray(xs), jnp.asarray(ys))

    return value_and_grad, values


def _disc(cx, cy, r):
    return lambda x, y: 1.0 - ((x - cx) ** 2 + (y - cy) ** 2) / r**2


def test_circle_is_closed_counter_clockwise_on_the_level_set():
    vg, vals = _analytic(_disc(0.3, -0.2, 1.0))
    regions, n = trace_level_set(vg, vals, [(1.3, -0.2)], (-3, 3, -3, 3))
    (r,) = regions
    assert r.closed and not r.touches_edge and r.edges == ()
    radius = np.hypot(r.vertices[:, 0] - 0.3, r.vertices[:, 1] + 0.2)
    assert np.max(np.abs(radius - 1.0)) < 1e-9  # every vertex on the level set
    assert r.area > 0  # counter-clockwise around F > 0
    assert abs(r.area / math.pi - 1) < 2e-3  # inscribed polygon: chord error only
    assert n == r.n_evaluations + 1 or n >= r.n_evaluations


def test_annulus_gives_outer_loop_and_clockwise_hole():
    vg, vals = _analytic(lambda x, y: (jnp.hypot(x, y) - 1.0) * (2.0 - jnp.hypot(x, y)))
    regions, _ = trace_level_set(vg, vals, [(2.0, 0.0), (1.0, 0.0)], (-3, 3, -3, 3))
    assert len(regions) == 2
    areas = sorted(r.area for r in regions)
    assert areas[0] < 0 and regions[[r.area for r in regions].index(areas[0])].hole
    assert abs(sum(areas) / (3 * math.pi) - 1) < 3e-3


def test_disc_cut_by_the_box_is_closed_along_the_edge():
    vg, vals = _analytic(_disc(0.0, 0.0, 1.0))  # centre on the left side of the box
    regions, _ = trace_level_set(vg, vals, [(0.0, 1.0)], (0.0, 3.0, -3.0, 3.0))
    (r,) = regions
    assert r.closed and r.touches_edge and r.edges == ("mass_min",)
    assert abs(r.area / (math.pi / 2) - 1) < 2e-3
    assert np.all(r.vertices[:, 0] >= -1e-12)


def test_corner_disc_walks_round_the_corner():
    vg, vals = _analytic(_disc(0.0, 0.0, 1.0))  # quarter disc in the lower-left corner
    regions, _ = trace_level_set(vg, vals, [(math.sqrt(0.5), math.sqrt(0.5))], (0.0, 3.0, 0.0, 3.0))
    (r,) = regions
    assert set(r.edges) == {"mass_min", "coupling_min"}
    assert any(np.allclose(v, [0.0, 0.0]) for v in r.vertices)  # the corner is a vertex
    assert abs(r.area / (math.pi / 4) - 1) < 2e-3


def test_two_discs_are_two_regions_and_seeds_are_not_retraced():
    f1, f2 = _disc(-1.0, 0.0, 0.5), _disc(1.0, 0.0, 0.5)
    vg, vals = _analytic(lambda x, y: jnp.maximum(f1(x, y), f2(x, y)))
    seeds = [(-1.5, 0.0), (-0.5, 0.0), (0.5, 0.0), (1.5, 0.0)]
    regions, _ = trace_level_set(vg, vals, seeds, (-3, 3, -3, 3))
    assert len(regions) == 2
    assert all(abs(r.area / (math.pi * 0.25) - 1) < 3e-3 for r in regions)


def test_marching_squares_circle_area():
    xs = ys = np.linspace(-2, 2, 401)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    loops = marching_squares(1 - X**2 - Y**2, xs, ys)
    assert len(loops) == 1
    assert polygon_area(loops[0]) > 0
    assert abs(polygon_area(loops[0]) / math.pi - 1) < 1e-4


def test_unbounded_iterations_fail_with_a_clear_message():
    vg, vals = _analytic(_disc(0.0, 0.0, 1.0))
    with pytest.raises(ContourTraceError, match="max_steps = 3"):
        trace_level_set(vg, vals, [(1.0, 0.0)], (-3, 3, -3, 3), max_steps=3)
    regions, _ = trace_level_set(vg, vals, [(1.0, 0.0)], (-3, 3, -3, 3), max_steps=3, raise_on_failure=False)
    assert not regions[0].closed and "max_steps" in regions[0].message


def test_stalled_corrector_fails_with_a_clear_message():
    # the gradient is NaN beyond x > 0.5: the corrector can never converge there
    def fun(x, y):
        return jnp.where(x > 0.5, jnp.nan, 1.0 - x**2 - y**2)

    vg, vals = _analytic(fun)
    with pytest.raises(ContourTraceError, match="h_min"):
        trace_level_set(vg, vals, [(0.0, -1.0)], (-3, 3, -3, 3), h_min=1e-5)



def _disc_with_a_cusped_crack(x, y):
    """F = (1 - r^2) g: the unit disc minus the crack |x| < y^3 (y > 0), whose walls meet tangentially
    at the origin (g = x^2 - y^6 above y = 0, x^2 + y^2 below: C1).  Its tip is a hairpin the
    continuation cannot turn (the gradient vanishes there), as at the notch of a mixing pole."""
    g = jnp.where(y > 0, x**2 - y**6, x**2 + y**2)
    return (1.0 - x**2 - y**2) * g


def test_a_stall_at_the_tip_of_a_thin_crack_is_bridged_and_the_region_closes():
    vg, vals = _analytic(_disc_with_a_cusped_crack)
    seed = [(0.0, -1.0)]
    # without bridges the continuation stalls at the crack's tip
    regions, _ = trace_level_set(vg, vals, seed, (-2, 2, -2, 2), bridge_radii=(), raise_on_failure=False)
    assert not regions[0].closed and "h_min" in regions[0].message
    (r,) = trace_level_set(vg, vals, seed, (-2, 2, -2, 2))[0]
    assert r.closed and 1 <= r.n_bridges <= 4
    # the walls meet the unit circle at y* with y*^2 + y*^6 = 1; crack area 2 * int_0^y* y^3 dy = y*^4 / 2,
    # plus the two circular segments beyond the walls (negligible: x = y*^3 ~ 0.55 is not small -> exact)
    ys = np.roots([1, 0, 0, 0, 1, 0, -1])
    y_star = float(max(v.real for v in ys if abs(v.imag) < 1e-12 and v.real > 0))
    x_star = y_star**3
    phi = math.atan2(x_star, y_star)  # half-angle of the arc cut off between the walls' ends
    # region = disc minus (crack below the circle + the circular sector between the walls' ends minus
    # the triangle-like part already counted): area by Green on the exact boundary, numerically
    t = np.linspace(0, y_star, 200001)
    crack = 2 * np.trapezoid(t**3, t)
    sector = phi - x_star * y_star  # sector of angle 2 phi minus the triangle (0,0)-(+-x*, y*)
    expected = math.pi - crack - sector
    assert r.area == pytest.approx(expected, rel=3e-3)
    # every vertex on the level set (the bridge's end points too)
    f = np.asarray(vals(r.vertices[:, 0], r.vertices[:, 1]))
    assert np.max(np.abs(f)) < 1e-8


# ----------------------------------------------------------------------------------------------------
# yield surfaces
# ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_tables():
    """BC1-like toy tables with fewer momentum bins and cells: the brute-force grid stays fast."""
    return toy_tables(n_p=16, n_z=8)


def _vertical_gap(P, Q, x_skip):
    """Largest |y_P - y_Q(x)| over vertices of P with x < x_skip (away from the tip and the box)."""
    s0, s1 = Q, np.roll(Q, -1, axis=0)
    worst = 0.0
    for p in P:
        if p[0] >= x_skip or p[0] <= Q[:, 0].min() + 1e-9:
            continue
        m = (np.minimum(s0[:, 0], s1[:, 0]) <= p[0]) & (np.maximum(s0[:, 0], s1[:, 0]) >= p[0]) & (s0[:, 0] != s1[:, 0])
        lam = (p[0] - s0[m, 0]) / (s1[m, 0] - s0[m, 0])
        worst = max(worst, float(np.min(np.abs(s0[m, 1] + lam * (s1[m, 1] - s0[m, 1]) - p[1]))))
    return worst


#: side of the brute-force grid.  Marching squares interpolates linearly between grid nodes, so its
#: vertices are off the level set by O(h^2 F''/F') (h: grid step): halving n from 2000 quadruples that
#: error, and it stays far below TOL.  Measured on these tables, every gap below moves by < 1e-5 from
#: n = 2000 to n = 1000 (and by < 3e-5 at n = 400): hausdorff 1.05e-3 / 1.04e-3, vertical 1.11e-3 /
#: 1.11e-3, tip 5e-6 / 6e-6, area 4.2e-5 / 3.2e-5 -- what is measured is the traced polygon's error,
#: not the reference's.  n = 1000 costs a third of n = 2000's time (4.3 s vs 13.4 s unloaded).
N_BRUTE = 1000


def test_traced_polygon_matches_brute_force_grid(small_tables):
    surface = surface_from_tables(small_tables, POT)
    res = trace_surface(surface, math.log(N_LIMIT), Y_RANGE)
    assert len(res.regions) == 1
    region = res.regions[0]
    assert region.closed and region.touches_edge and region.edges == ("mass_min",)
    loops, n_brute = grid_regions(surface, math.log(N_LIMIT), surface.x_range, Y_RANGE, n=N_BRUTE)
    brute = max(loops, key=lambda v: abs(polygon_area(v)))
    R = region.vertices
    x_tip = R[:, 0].max()
    hausdorff = polygon_distance(R, brute)
    vertical = max(_vertical_gap(R, brute, x_tip - 0.05), _vertical_gap(brute, R, x_tip - 0.05))
    tip_dx = abs(x_tip - brute[:, 0].max())
    area_rel = abs(region.area / polygon_area(brute) - 1)
    print(f"\ntraced: {res.n_trace_evaluations} + {res.n_seed_evaluations} (seeds) evaluations, "
          f"{len(R)} vertices; brute force: {n_brute} evaluations\n"
          f"hausdorff {hausdorff:.2e}, vertical gap {vertical:.2e}, tip dx {tip_dx:.2e}, area {area_rel:.2e}")
    assert vertical <= TOL and tip_dx <= TOL and hausdorff <= TOL and area_rel <= TOL
    assert n_brute == N_BRUTE**2
    # the tracer's budget as before (1% of a 2000 x 2000 grid), not loosened with the smaller reference
    assert res.n_evaluations < 2000**2 / 100


def test_polygon_tip_and_seeds_agree_with_ift_tip_and_per_mass_roots(small_tables):
    res = trace_surface(surface_from_tables(small_tables, POT), math.log(N_LIMIT), Y_RANGE)
    R = res.regions[0].vertices
    problem = contour_problem(small_tables, None, pot=POT, n_limit=N_LIMIT, couplings=COUPLINGS)
    x_tip, y_tip = (float(v) for v in tip(problem, problem.reference))
    k = int(np.argmax(R[:, 0]))
    assert abs(R[k, 0] - x_tip) < 1e-3 and abs(R[k, 1] - y_tip) < 0.05
    # the polygon passes through the per-mass roots at every interior node (seeds lie on its chords)
    pm = per_mass_contour(small_tables, POT, N_LIMIT, np.linspace(*Y_RANGE, 96))
    roots = np.array([(math.log(m), math.log(g)) for m, lo, hi in pm.rows()[1:] for g in (lo, hi)])
    assert _distance_to_polygon(roots, R).max() < 2e-3
    assert _distance_to_polygon(res.seeds, R).max() < 2e-3


def _distance_to_polygon(points, V):
    a, b = V, np.roll(V, -1, axis=0)
    ab = b - a
    t = np.clip(np.einsum("psk,sk->ps", points[:, None] - a[None], ab) / np.einsum("sk,sk->s", ab, ab), 0, 1)
    d = points[:, None] - a[None] - t[..., None] * ab[None]
    return np.sqrt((d**2).sum(-1)).min(axis=1)


def test_region_split_in_two_by_a_production_dip(small_tables):
    dip = lambda m: 1e-12 if abs(math.log(m / 0.08)) < 0.15 else 1.0  # production switched off
    tables = toy_tables(n_p=16, n_z=8, mass_factor=dip)
    regions = trace_regions(tables, POT, N_LIMIT, couplings=COUPLINGS)
    assert len(regions) == 2 and all(r.closed for r in regions)
    left, right = sorted(regions, key=lambda r: r.vertices[:, 0].min())
    assert left.edges == ("mass_min",) and right.edges == ()
    assert left.vertices[:, 0].max() < math.log(0.08) < right.vertices[:, 0].min()


def test_island_above_the_tip_is_a_separate_region():
    bump = lambda m: 1.0 + 3e4 * math.exp(-(math.log(m / 1.2) / 0.08) ** 2)
    tables = toy_tables(n_p=16, n_z=8, mass_factor=bump)
    regions = trace_regions(tables, POT, N_LIMIT, couplings=COUPLINGS)
    assert len(regions) == 2
    island = max(regions, key=lambda r: r.vertices[:, 0].max())
    assert island.closed and not island.touches_edge and island.area > 0
    assert 0.8 < island.tip[0] < 1.6


def test_no_region_found(small_tables):
    regions = trace_regions(small_tables, 1e8, N_LIMIT, couplings=COUPLINGS)
    assert regions == []
    assert polygon_csv(regions) == "region,mass_gev,coupling\n"


def test_region_touching_the_coupling_edge_matches_brute_force(small_tables):
    couplings = (1e-10, 3e-5)  # the upper edge at low masses lies above 3e-5
    surface = surface_from_tables(small_tables, POT)
    y_range = (math.log(couplings[0]), math.log(couplings[1]))
    res = trace_surface(surface, math.log(N_LIMIT), y_range)
    (r,) = res.regions
    assert r.closed and set(r.edges) == {"mass_min", "coupling_max"}
    assert np.all(r.vertices[:, 1] <= y_range[1] + 1e-12)
    loops, _ = grid_regions(surface, math.log(N_LIMIT), surface.x_range, y_range, n=600)
    brute = max(loops, key=lambda v: abs(polygon_area(v)))
    assert abs(r.area / polygon_area(brute) - 1) < TOL
    assert polygon_distance(r.vertices, brute) < 2e-2  # the 600-point grid's corner cut


# ----------------------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------------------
def test_polygon_csv_h5_and_scan_result_hook(small_tables, tmp_path):
    result = SimpleNamespace(points=[SimpleNamespace(pot=POT, n_limit=N_LIMIT)], tables=small_tables,
                             grid=SimpleNamespace(couplings=np.geomspace(*COUPLINGS, 50)))
    written = {}
    regions = save_polygon(result, tmp_path, written)
    path = tmp_path / "contour_polygon.csv"
    assert written == {"contour_polygon.csv": path}
    lines = path.read_text().splitlines()
    assert lines[0] == "region,mass_gev,coupling"
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert np.all(rows[:, 0] == 0)
    assert np.allclose(rows[0, 1:], rows[-1, 1:])  # closed: first vertex repeated
    assert len(rows) == len(regions[0].vertices) + 1
    with h5py.File(tmp_path / "scan.h5", "w") as f:
        write_polygon_h5(f.create_group("contour_polygon"), regions)
    with h5py.File(tmp_path / "scan.h5") as f:
        g = f["contour_polygon"]
        assert g.attrs["n_regions"] == 1
        r0 = g["region_0"]
        assert r0.attrs["closed"] and r0.attrs["touches_edge"] and r0.attrs["edges"] == "mass_min"
        assert np.allclose(np.log(r0["mass_gev"][:]), regions[0].vertices[:, 0])
        assert r0.attrs["area_lnln"] == pytest.approx(regions[0].area)


# ----------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_file(tmp_path_factory, small_tables):
    from fipscan.io.tables import save_tables

    path = tmp_path_factory.mktemp("tables") / "toy.h5"
    return save_tables(small_tables, path, model="dark-photon", experiment="na62-bd")


def test_cli_contour_writes_csv_and_json(table_file, tmp_path, capsys):
    out = tmp_path / "poly.csv"
    assert cli_main(["contour", "--tables", str(table_file), "--pot", "1e18", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_regions"] == 1 and summary["regions"][0]["closed"]
    assert summary["n_evaluations"] > summary["n_seed_evaluations"] > 0
    assert out.read_text().startswith("region,mass_gev,coupling\n")
    out_json = tmp_path / "poly.json"
    assert cli_main(["contour", "--tables", str(table_file), "--pot", "1e18", "-o", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert data["regions"][0]["edges"] == ["mass_min"] and len(data["regions"][0]["mass_gev"]) > 50


@pytest.mark.parametrize("argv, message", [
    (["--couplings", "1e-3:1e-5"], "LO < HI"),
    (["--pot", "-1"], "--pot must be positive"),
    (["-o", "x.txt"], "-o/--output must name a polygon file (*.csv, *.json)"),
    (["-o", "/nonexistent/dir/x.csv"], "does not exist"),
    (["--tables", "missing.h5"], "--tables missing.h5 does not exist"),
    (["--tables", "tables.npz"], "--tables must name a yield-table HDF5 file"),
    (["--masses", "0.01:5:10"], "model's range"),
])
def test_cli_contour_errors_are_one_line_exit_2(argv, message, capsys):
    assert cli_main(["contour", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and err.startswith("fipscan: error:")


def test_cli_contour_subprocess_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fipscan.cli.main", "contour", "--couplings", "1:2:3:4"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "coupling range" in proc.stderr


def test_exit_point_on_a_side_is_found_inside_a_spike_narrower_than_the_step():
    """The contour leaves the box through a region of the side far narrower than the continuation step
    (a resonant spike): the doubling search jumps over it, the geometric side sampling finds it."""
    from fipscan.contour.trace import _Box, _Counted, _refine_on_side

    centre, half = 0.3, 2e-5  # positive only for |x - 0.3| < 2e-5 on the bottom side y = 0

    def f(x, y):
        return half - np.abs(x - centre) - 0.0 * y

    F = _Counted(lambda x, y: (f(x, y), (-np.sign(x - centre), 0.0)),
                 lambda xs, ys: f(np.asarray(xs), np.asarray(ys)))
    box = _Box(0.0, 1.0, 0.0, 1.0)
    p = _refine_on_side(F, box, np.array([0.3003, 0.0]), 0, span=0.05)  # side 0: the bottom
    assert p is not None
    assert abs(p[0] - (centre + half)) < 1e-9 or abs(p[0] - (centre - half)) < 1e-9
    assert p[1] == 0.0
