"""Comparisons with published exclusion regions (intersection over union in the log-log plane)."""

from __future__ import annotations

import numpy as np

__all__ = ["region_polygon", "iou_loglog"]


def region_polygon(masses, lower, upper) -> np.ndarray:
    """Closed polygon (m, g) of a per-mass exclusion: the lower edge left to right, the upper edge back."""
    masses, lower, upper = (np.asarray(a, float) for a in (masses, lower, upper))
    ok = np.isfinite(lower) & np.isfinite(upper)
    m, lo, hi = masses[ok], lower[ok], upper[ok]
    return np.column_stack([np.concatenate([m, m[::-1]]), np.concatenate([lo, hi[::-1]])])


def _inside(poly_log: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd ray casting (Shimrat, CACM 5 (1962) 434) for many points against one polygon."""
    px, py = poly_log[:, 0], poly_log[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    inside = np.zeros(x.shape, dtype=bool)
    for x0, y0, x1, y1 in zip(px, py, qx, qy):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < x_at)
    return inside


def iou_loglog(poly_a, poly_b, n: int = 600) -> float:
    """Intersection over union of two closed polygons (m, g) in the log10 m x log10 g plane.

    Both polygons are rasterised on an n x n grid covering their joint bounding box; the IoU is
    the ratio of cell counts (resolution error ~ perimeter / n cells).
    """
    a, b = np.log10(np.asarray(poly_a, float)), np.log10(np.asarray(poly_b, float))
    both = np.vstack([a, b])
    lo, hi = both.min(axis=0), both.max(axis=0)
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    ia, ib = _inside(a, X, Y), _inside(b, X, Y)
    union = np.count_nonzero(ia | ib)
    return float(np.count_nonzero(ia & ib) / union) if union else 0.0
