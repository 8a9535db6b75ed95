"""fipscan benchmarks (not installed with the package): ``python -m bench`` or ``fipscan bench``."""
