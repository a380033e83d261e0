"""The fuzz property of tests/flows/test_fuzz.py, run for longer: python bench/fuzz.py [EXAMPLES]."""

import os
import subprocess
import sys
from pathlib import Path

n = sys.argv[1] if len(sys.argv) > 1 else "2000"
root = Path(__file__).resolve().parent.parent
sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "tests/flows/test_fuzz.py", "--hypothesis-show-statistics"],
                         cwd=root, env={**os.environ, "FUZZ_EXAMPLES": n}))
