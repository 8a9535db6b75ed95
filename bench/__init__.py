"""fipscan benchmarks (not installed with the package): ``python -m bench`` from a source checkout."""
