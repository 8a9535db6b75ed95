"""The IoU measure itself, on shapes with known answers."""

import numpy as np
import pytest

from fipscan.validation import iou_loglog, region_polygon


def square(x0, x1, y0, y1):
    return 10.0 ** np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def test_identical_disjoint_and_half_overlap():
    a = square(0, 1, 0, 1)
    assert iou_loglog(a, a) == pytest.approx(1.0, abs=1e-9)
    assert iou_loglog(a, square(2, 3, 0, 1)) == 0.0
    # overlap 0.5, union 1.5 -> 1/3
    assert iou_loglog(a, square(0.5, 1.5, 0, 1)) == pytest.approx(1 / 3, abs=0.01)


def test_region_polygon_of_per_mass_edges():
    m = np.array([0.1, 0.2, 0.4])
    lo = np.array([1e-7, 1e-7, np.nan])
    hi = np.array([1e-5, 1e-5, np.nan])
    poly = region_polygon(m, lo, hi)
    assert poly.shape == (4, 2)
    assert iou_loglog(poly, 10.0 ** np.array([[-1, -7], [np.log10(0.2), -7], [np.log10(0.2), -5], [-1, -5]])) == \
        pytest.approx(1.0, abs=1e-9)
