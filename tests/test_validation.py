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


# ----------------------------------------------------------------------------------------------------
# input validators (fipscan.checks): one message style, the argument's name, one line
# ----------------------------------------------------------------------------------------------------
from fipscan import checks  # noqa: E402
from fipscan.errors import ConfigError, InputError  # noqa: E402


@pytest.mark.parametrize("check, args, needle", [
    (checks.number, ("x", "abc"), "x must be a number, got 'abc'"),
    (checks.number, ("x", True), "x must be a number, got the boolean True"),
    (checks.number, ("x", float("nan")), "x must be a number, got NaN"),
    (checks.finite, ("x", float("inf")), "x must be finite"),
    (checks.positive, ("--pot", -1.0), "--pot must be positive and finite, got -1.0"),
    (checks.positive, ("--pot", 0), "--pot must be positive"),
    (checks.positive, ("--pot", float("inf")), "--pot must be positive"),
    (checks.positive, ("mass", float("nan")), "mass must be a number, got NaN"),
    (checks.nonnegative, ("background", -0.5), "background must be non-negative"),
    (checks.count, ("n_obs", 2.5), "n_obs must be a non-negative integer, got 2.5"),
    (checks.count, ("n_obs", -1), "n_obs must be a non-negative integer, got -1"),
    (checks.count, ("--events", "many"), "--events must be a non-negative integer, got 'many'"),
    (checks.count, ("n_obs", False), "n_obs must be a non-negative integer, got the boolean"),
    (checks.probability, ("cl", 1.0), "cl must lie strictly between 0 and 1"),
    (checks.probability, ("cl", 0), "cl must lie strictly between 0 and 1"),
    (checks.choice, ("method", "bayes", ("cls", "fc")), "method must be one of 'cls', 'fc'; got 'bayes'"),
    (checks.within, ("mass", 5.0, 0.001, 1.0), "mass 5 is outside the allowed range [0.001, 1]"),
])
def test_checks_raise_one_line_input_errors_naming_the_argument(check, args, needle):
    with pytest.raises(InputError) as err:
        check(*args)
    assert isinstance(err.value, ValueError)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_checks_return_plain_numbers():
    assert checks.positive("x", "1e18") == 1e18 and type(checks.positive("x", np.float32(2))) is float
    assert checks.count("n", 3.0) == 3 and type(checks.count("n", np.int64(3))) is int
    assert checks.nonnegative("b", 0) == 0.0 and checks.finite("x", -2) == -2.0
    assert checks.number("x", float("inf")) == float("inf")
    assert checks.within("m", 0.5, 0.1, 1.0, unit="GeV") == 0.5
    assert checks.optional(checks.positive, "x", None) is None and checks.optional(checks.positive, "x", 2) == 2.0


def test_checks_other_error_class_and_multi_line_values_folded():
    with pytest.raises(ConfigError, match=r"efficiency.mumu must be positive"):
        checks.positive("efficiency.mumu", -0.1, error=ConfigError)
    with pytest.raises(InputError) as err:
        checks.number("x", np.ones((3, 3)))
    assert "\n" not in str(err.value) and str(err.value).startswith("x must be a number")


def test_grid_and_stats_use_the_same_checks():
    from fipscan.grid import check_coupling, check_mass
    from fipscan.stats import upper_limit

    with pytest.raises(InputError, match="^mass must be a number, got NaN$"):
        check_mass(float("nan"))
    with pytest.raises(InputError, match=r"^mass 5 GeV is outside the model's range \[0.001, 1\] GeV$"):
        check_mass(5.0, 0.001, 1.0)
    with pytest.raises(InputError, match="^--projection must be positive and finite, got 0; scans run on log axes$"):
        check_coupling(0, "--projection")
    with pytest.raises(InputError, match="^background must be non-negative and finite, got -1.0$"):
        upper_limit(0, background=-1.0)
    with pytest.raises(InputError, match="^n_obs must be a non-negative integer, got the boolean True$"):
        upper_limit(True, background=1.0)
