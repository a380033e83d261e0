"""flows/tempserver.py: Prefect's temporary server, launched by the command line before its imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from flows import prefect_env, tempserver
from tests.conftest import ROOT
from tests.helpers import servers_of

prefect_env.configure()


def test_the_command_is_the_one_prefect_launches_its_temporary_server_with(monkeypatch):
    """If a Prefect release changes how it starts its temporary server, this says so."""
    import prefect.server.api.server as server_module

    seen: dict[str, Any] = {}

    def record(args: list[str], env: dict[str, str], **kw: Any) -> None:
        seen.update(args=args, env=env)

    monkeypatch.setattr(server_module.subprocess, "Popen", record)
    server_module.SubprocessASGIServer(port=8123)._run_uvicorn_command()
    args, extra = tempserver._command(8123)
    assert args == seen["args"]
    assert extra.items() <= seen["env"].items()
    assert {k for k in seen["env"] if k.startswith(("PREFECT__", "PREFECT_UI"))} == set(extra)


def test_no_early_server_when_the_environment_names_one(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert tempserver.start() is None


def test_an_api_url_in_prefect_settings_wins_and_the_early_server_is_stopped():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = tempserver.TemporaryServer().start()
    process = server.process
    assert process is not None and process.poll() is None
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert tempserver.adopt(server) == {}
    assert server.process is None and process.poll() is not None  # stopped, not left behind


def test_a_server_whose_startup_keeps_failing_is_given_up_at_once(monkeypatch):
    """uvicorn exits with 3 for a port in use and for a failed startup (an unwritable PREFECT_HOME):
    a few relaunches, then a clear error, not the 90 s of the startup timeout."""
    server = tempserver.TemporaryServer()
    monkeypatch.setattr(tempserver, "_command", lambda port: (["python3", "-c", "raise SystemExit(3)"], {}))
    server.start()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"exited with code 3 before it answered \(4 attempts"):
        server.wait(90)
    assert time.monotonic() - started < 30
    server.stop()


def test_a_server_that_dies_before_answering_is_a_clear_error(monkeypatch):
    server = tempserver.TemporaryServer()
    monkeypatch.setattr(tempserver, "_command", lambda port: (["python3", "-c", "raise SystemExit(7)"], {}))
    server.start()
    with pytest.raises(RuntimeError, match="exited with code 7"):
        server.wait(30)
    server.stop()


@pytest.mark.flow
def test_the_server_does_not_outlive_a_killed_command(tmp_path):
    """SIGKILL leaves the command no chance to stop its server: the server is told by the kernel."""
    home = str(tmp_path / "prefect-home")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": home}
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_text("Title\n\nSome text of an article, long enough to be kept.\n")
    cmd = subprocess.Popen([sys.executable, "-m", "flows", "run", "-q", str(tmp_path / "raw"), str(tmp_path / "out")],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not servers_of(home):
        assert time.monotonic() < deadline and cmd.poll() is None, "no server started"
        time.sleep(0.1)
    cmd.send_signal(signal.SIGKILL)
    cmd.wait()
    deadline = time.monotonic() + 15
    while servers_of(home):
        assert time.monotonic() < deadline, "the server outlived the command"
        time.sleep(0.1)


def test_loopback_bypasses_a_configured_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "corp.example")
    monkeypatch.delenv("no_proxy", raising=False)
    prefect_env.configure()
    prefect_env.configure()  # idempotent
    assert os.environ["NO_PROXY"] == "corp.example,127.0.0.1,localhost"
    assert os.environ["no_proxy"] == "127.0.0.1,localhost"
