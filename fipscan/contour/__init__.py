"""Exclusion contours: per-mass roots, level-set tracing, differentiable features, design optimisation.

* :mod:`~fipscan.contour.per_mass`: lower/upper coupling per mass node (grid bracket + Newton).
* :mod:`~fipscan.contour.differentiable`: the continuous yield surface log N(log m, log g), and the
  edges, tip and excluded area as functions of experiment parameters with implicit-function-theorem
  derivatives.
* :mod:`~fipscan.contour.trace`: closed polygons of the excluded region by pseudo-arclength
  continuation (threshold-bounded regions closed at the threshold); the brute-force marching-squares
  reference.  The polygon files are written by :mod:`fipscan.io.polygon`.

Every function reads the yields through the :class:`fipscan.searches.Search` protocol; yield tables
are accepted wherever a search is (:func:`fipscan.searches.as_search`).  Synthetic tables for tests
are in :mod:`fipscan.testing`.
* :mod:`~fipscan.contour.design`: projected-Adam optimisation of the decay-volume start.
"""

from .design import CONSTRAINTS, OBJECTIVES, DesignResult, design_params, optimise_decay_volume_start, \
    scan_decay_volume_start
from .differentiable import (
    ContourProblem,
    ExperimentParams,
    YieldSurface,
    contour_features,
    contour_problem,
    edges_at,
    excluded_area,
    feature_jacobian,
    interpolation_error,
    log_events_and_dy,
    log_events_at,
    lower_edge,
    make_surface,
    reach,
    surface_from_tables,
    tip,
    upper_edge,
)
from .per_mass import PerMassContour, log_events_grid, per_mass_contour
from .trace import (
    ContourTraceError,
    Region,
    TraceResult,
    grid_regions,
    marching_squares,
    polygon_area,
    polygon_distance,
    trace_level_set,
    trace_regions,
    trace_surface,
    trace_tables,
)

__all__ = [
    # per-mass roots
    "PerMassContour", "per_mass_contour", "log_events_grid",
    # continuous surface and differentiable features
    "YieldSurface", "make_surface", "surface_from_tables", "log_events_at", "log_events_and_dy",
    "interpolation_error", "ExperimentParams", "ContourProblem", "contour_problem", "edges_at",
    "lower_edge", "upper_edge", "reach", "tip", "excluded_area", "contour_features", "feature_jacobian",
    # tracing
    "Region", "TraceResult", "ContourTraceError", "trace_regions", "trace_tables", "trace_surface",
    "trace_level_set", "grid_regions", "marching_squares", "polygon_area", "polygon_distance",
    # design
    "DesignResult", "optimise_decay_volume_start", "scan_decay_volume_start", "design_params",
    "CONSTRAINTS", "OBJECTIVES",
]
