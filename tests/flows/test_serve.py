"""`newsclean serve`: a real local Prefect server, the served deployment triggered with run_deployment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from flows.serve import free_port
from tests.conftest import ROOT
from tests.helpers import rows

pytestmark = pytest.mark.flow

TRIGGER = """
from prefect.deployments import run_deployment
run = run_deployment("clean-news/scheduled", timeout=300)
print(run.state.type.value)
"""


def _wait_for_deployment(api: str, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{api}/deployments/name/clean-news/scheduled", timeout=3)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError("the deployment never appeared")


def test_serve_runs_the_deployment_and_a_second_run_adds_nothing(tmp_path, raw_copy):
    out = tmp_path / "out"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    serve = subprocess.Popen([sys.executable, "-m", "flows", "serve", str(raw_copy), str(out), "--cron", "0 3 * * *",
                              "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_for_deployment(api)
        trig_env = {**env, "PREFECT_API_URL": api}
        first = subprocess.run([sys.executable, "-c", TRIGGER], cwd=ROOT, env=trig_env, capture_output=True,
                               text=True, timeout=320)
        assert first.stdout.strip().endswith("COMPLETED"), first.stderr[-2000:] + (tmp_path / "serve.log").read_text()[-2000:]
        n_articles = len(rows(out, "articles"))
        assert n_articles == 9
        second = subprocess.run([sys.executable, "-c", TRIGGER], cwd=ROOT, env=trig_env, capture_output=True,
                                text=True, timeout=320)
        assert second.stdout.strip().endswith("COMPLETED"), second.stderr[-2000:]
        assert len(rows(out, "articles")) == n_articles and len(rows(out, "rejects")) == 2  # nothing new
        assert len(list((out / "runs").glob("*.json"))) == 2
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=60)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            killed = True
        log.close()
    assert not killed, "serve did not stop within 60 s of Ctrl-C: " + (tmp_path / "serve.log").read_text()[-2000:]
    # the local server was stopped with the serve command
    import httpx

    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=3)


STOPPING = """
import sys, time
from flows.serve import exit_after_interrupt
exit_after_interrupt(1.0, lambda: print("cleanup ran", flush=True))
print("ready", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    if sys.argv[1] == "stuck":  # a shutdown that never ends: every later interrupt is swallowed too
        while True:
            try:
                time.sleep(0.1)
            except KeyboardInterrupt:
                pass
"""


@pytest.mark.parametrize("shutdown", ["prompt", "stuck"])
def test_ctrl_c_stops_serve_even_when_a_shutdown_hangs(shutdown):
    proc = subprocess.Popen([sys.executable, "-c", STOPPING, shutdown], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    assert "interrupted" in out
    if shutdown == "prompt":  # a shutdown that ends by itself is left alone: no watchdog, its own status
        assert proc.returncode == 0 and "cleanup ran" not in out and "still stopping" not in err
    else:  # the watchdog ends it after the grace period, after the cleanup
        assert proc.returncode == 130 and "cleanup ran" in out and "still stopping 1 s after Ctrl-C" in err
        assert 0.9 <= took < 20
