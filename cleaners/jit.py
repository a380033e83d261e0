"""numba's `njit` for the compiled kernels, without SciPy's linear algebra on the first call.

The first compiled call of a process (a cache load included) makes numba import numba.np.arraymath,
whose import checks for a BLAS by importing scipy.linalg.cython_blas: SciPy's whole linalg package,
0.3-0.45 s in every process that cleans (the CLI and each worker: a one-page run 2.79 -> 2.49 s
without it), while none of our kernels does linear algebra. Importing numba.np.arraymath here
with that one module held off only clears numba's `_HAVE_BLAS`, which picks numba's own inner
product loop for np.convolve and np.correlate; np.dot and the np.linalg functions still import SciPy
when something compiles them (numba.np.linalg.ensure_blas, at typing time), so nothing else in the
process changes. Had SciPy's linalg already been imported, there is nothing to save and nothing is
held off.
"""

from __future__ import annotations

import sys

_BLAS = "scipy.linalg.cython_blas"

if "numba.np.arraymath" not in sys.modules and _BLAS not in sys.modules:
    sys.modules[_BLAS] = None  # type: ignore[assignment]  # `import` of it raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(_BLAS, 0) is None:
            del sys.modules[_BLAS]

from numba import njit  # noqa: E402

__all__ = ["njit"]
