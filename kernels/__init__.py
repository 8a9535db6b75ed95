"""Pure JAX numerical kernels of fipscan (installed as ``fipscan.kernels``).

Every function here is a function of arrays: no I/O, no globals, no imports from
the rest of fipscan.  Kernels keep the dtype of their inputs.
"""
