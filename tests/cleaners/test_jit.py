"""cleaners/jit.py: the first compiled call of a process does not import SciPy's linear algebra,
and numba's linear algebra still works afterwards in that process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

ARTICLE = ("Café owners in Zürich said the rules changed.", "They expect fewer customers — and higher costs.")


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_cleaning_and_sketching_do_not_import_scipy_linalg() -> None:
    out = _run(f"""
        import sys
        from cleaners import clean_article
        from dedupe.minhash import MinHasher, shingle_hashes
        res = clean_article({ARTICLE!r}, title="Rules")
        MinHasher().signature(shingle_hashes("café owners in zürich said the rules".split(), 3))
        print(res.blocks[0], "scipy.linalg" in sys.modules, "numba.np.arraymath" in sys.modules)
    """)
    assert out == f"{ARTICLE[0]} False True"


def test_numba_linear_algebra_still_compiles_after() -> None:
    out = _run("""
        import sys
        import numpy as np
        from numba import njit
        from cleaners.folding import casefold_cps  # compiled kernels loaded first
        casefold_cps("Zürich")
        @njit
        def dot_and_convolve(a, b):
            return np.dot(a, b), np.convolve(a, b)[1]
        print(dot_and_convolve(np.arange(3.0), np.ones(3)), "scipy.linalg" in sys.modules)
    """)
    assert out == "(3.0, 1.0) True"
