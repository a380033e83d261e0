"""Scale-out: the flow on a real Dask cluster (distributed.LocalCluster, 2 worker processes) gives
the same rows as a one-process run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flows.pipeline import run_pipeline
from tests.conftest import ROOT
from tests.helpers import rows, without_run_columns

pytestmark = pytest.mark.flow


def test_flow_on_a_dask_cluster_equals_a_one_process_run(tmp_path, raw_copy):
    import json

    from distributed import Client, LocalCluster

    run_pipeline(raw_copy, tmp_path / "one")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
        proc = subprocess.run([sys.executable, "-m", "flows", "run", "-q", "--batch-files", "2", "--workers", "2",
                               "--dask-address", cluster.scheduler_address, str(raw_copy), str(tmp_path / "dask")],
                              cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        with Client(cluster) as client:
            worker_pids = {str(pid) for pid in client.run(os.getpid).values()}
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / "dask" / "runs").glob("*.json")]
    used = {w.rsplit(":", 1)[1] for w in manifest["batch_workers"]}
    assert used and used <= worker_pids  # every batch was cleaned by a Dask worker process
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(tmp_path / "one", table)) == without_run_columns(rows(tmp_path / "dask", table))
