"""``python -m bench``: the fipscan benchmark suite (see bench/README.md)."""

import sys

from bench.run import main

sys.exit(main())
