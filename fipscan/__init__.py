"""fipscan: fast, differentiable sensitivity scans for feebly-interacting particles."""

__version__ = "0.1.0"

__all__ = ["__version__"]
