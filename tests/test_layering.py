"""cleaners and dedupe are the core: usable without Prefect, Arrow or the flows package."""

import subprocess
import sys

from tests.conftest import ROOT


def test_core_packages_do_not_import_prefect_pyarrow_or_flows():
    code = (
        "import importlib, pkgutil, sys\n"
        "import cleaners, dedupe\n"
        "for pkg in (cleaners, dedupe):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pyarrow', 'flows'))\n"
        "print(len([m for m in sys.modules if m.startswith(('cleaners.', 'dedupe.'))]), ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    n, _, bad = out.stdout.strip().partition(" ")
    assert int(n) >= 4, "the walk imported no submodules"
    assert bad == "", f"core packages imported: {bad}"
