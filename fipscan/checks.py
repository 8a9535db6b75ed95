"""The input validators of fipscan: every number a user gives is checked here, the same way.

Each check takes the argument's name first (as the user sees it: ``"mass"``, ``"--pot"``,
``"background_uncertainty"``, ``"efficiency.mumu"``), returns the value as a plain Python number,
and raises :class:`~fipscan.errors.InputError` (a ``ValueError``; the CLI prints it as one line and
exits with code 2) with a one-line message that names the argument.  ``error=`` selects another
exception class, e.g. :class:`~fipscan.errors.ConfigError` for values read from a configuration file.

>>> positive("--pot", "1e18")
1e+18
>>> positive("coupling", 0)
Traceback (most recent call last):
...
fipscan.errors.InputError: coupling must be positive and finite, got 0

Booleans are refused wherever a number is expected (``True`` is not a count of 1).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from fipscan.errors import InputError

__all__ = ["number", "finite", "positive", "nonnegative", "count", "probability", "within", "choice", "optional",
           "text", "MAX_POT"]

#: POT values beyond this are no beam: N is proportional to POT and the limit machinery works with
#: counts up to ~1e300, so a POT that makes N overflow is refused (CLI and experiment files) rather
#: than returned as inf
MAX_POT = 1e30


def _err(error: type[Exception], message: str) -> Exception:
    """``error(message)`` with the message on one line (a multi-line repr of the value folded)."""
    return error(" ".join(str(message).split()))


def number(name: str, value, *, error: type[Exception] = InputError) -> float:
    """A real number (infinities allowed); not a boolean, not NaN, not text that is no number."""
    if isinstance(value, (bool, np.bool_)):
        raise _err(error, f"{name} must be a number, got the boolean {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _err(error, f"{name} must be a number, got {value!r}") from None
    if math.isnan(x):
        raise _err(error, f"{name} must be a number, got NaN")
    return x


def finite(name: str, value, *, error: type[Exception] = InputError) -> float:
    """A finite number."""
    x = number(name, value, error=error)
    if not math.isfinite(x):
        raise _err(error, f"{name} must be finite, got {value!r}")
    return x


def positive(name: str, value, *, hint: str = "", error: type[Exception] = InputError) -> float:
    """A finite number > 0.  ``hint`` is appended to the message (e.g. ``"; scans run on log axes"``)."""
    x = number(name, value, error=error)
    if not math.isfinite(x) or x <= 0.0:
        raise _err(error, f"{name} must be positive and finite, got {value!r}{hint}")
    return x


def nonnegative(name: str, value, *, error: type[Exception] = InputError) -> float:
    """A finite number >= 0."""
    x = number(name, value, error=error)
    if not math.isfinite(x) or x < 0.0:
        raise _err(error, f"{name} must be non-negative and finite, got {value!r}")
    return x


def count(name: str, value, *, error: type[Exception] = InputError) -> int:
    """A non-negative integer (an integral float such as 3.0 is accepted, 2.5 is not)."""
    if isinstance(value, (bool, np.bool_)):
        raise _err(error, f"{name} must be a non-negative integer, got the boolean {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    else:
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x) or x != math.floor(x):
            raise _err(error, f"{name} must be a non-negative integer, got {value!r}")
        n = int(x)
    if n < 0:
        raise _err(error, f"{name} must be a non-negative integer, got {n}")
    return n


def probability(name: str, value, *, error: type[Exception] = InputError) -> float:
    """A number strictly inside (0, 1), e.g. a confidence level."""
    x = number(name, value, error=error)
    if not 0.0 < x < 1.0:
        raise _err(error, f"{name} must lie strictly between 0 and 1, got {value!r}")
    return x


def within(name: str, value, lo: float, hi: float, *, unit: str = "", where: str = "the allowed range",
           error: type[Exception] = InputError) -> float:
    """A finite number inside the closed interval [lo, hi]; the message names ``where`` and ``unit``."""
    x = finite(name, value, error=error)
    if not lo <= x <= hi:
        u = f" {unit}" if unit else ""
        raise _err(error, f"{name} {x:g}{u} is outside {where} [{lo:g}, {hi:g}]{u}")
    return x


def choice(name: str, value, choices: Iterable[str], *, error: type[Exception] = InputError) -> str:
    """One of a fixed set of strings."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise _err(error, f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def optional(check: Callable, name: str, value, *args, **kwargs):
    """``None`` if ``value`` is None, else ``check(name, value, *args, **kwargs)``."""
    return None if value is None else check(name, value, *args, **kwargs)


def text(what: str, path, *, error=InputError) -> str:
    """The UTF-8 text of the file ``path``; ``error`` (one line, "<what> <path>: ...") when it cannot be read
    or is not UTF-8 text.  The readers of user files (bounds, peak-search counts) start here."""
    try:
        return open(path, encoding="utf-8").read()
    except OSError as exc:
        raise error(f"{what} {path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path}: is not UTF-8 text") from None
