"""Prefect's temporary API server, started as the command line's first step instead of the flow's.

A flow run with no PREFECT_API_URL makes Prefect start a temporary server (SubprocessASGIServer:
uvicorn in a subprocess, 7-9 s here until it answers) when the flow first calls the API, that is
after the command line has imported Prefect and the pipeline; and to do so Prefect imports the
whole server application into the command line's own process too (2.7 s), only to launch it.
`start` launches the same command (`_command`, Prefect's own) at once, before any of that, and
the flow then runs against it as against any server (PREFECT_API_URL), so the server's start
overlaps the command line's. `adopt` hands it over once Prefect is imported: when Prefect's
settings name a server of their own (a profile's PREFECT_API_URL) or forbid a temporary one, the
early server is stopped and Prefect does what it always does.

Stopped as Prefect stops its own: terminate, then kill after 5 s; at exit at the latest. Unlike
Prefect's, it also gets SIGTERM if the command is killed (`stop_with_parent`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# uvicorn's exit code when it cannot bind its port (Prefect relaunches on another port), and also when
# the application's startup fails (an unwritable PREFECT_HOME, say): relaunched RELAUNCHES times at most
PORT_IN_USE = 3
RELAUNCHES = 3


def _command(port: int) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment of Prefect's temporary server
    (prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command; a test compares them)."""
    spec = importlib.util.find_spec("prefect")  # where Prefect is, without importing it
    if spec is None or spec.origin is None:
        raise RuntimeError("prefect is not installed")
    app_dir = str(Path(spec.origin).parent.parent)
    args = [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]
    return args, {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_with_parent() -> None:
    """Run in a server's process before it starts (Linux): it gets SIGTERM when its parent dies, so
    it never outlives the command, even one killed before it could stop the server itself."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """Terminate a server's process; kill it if it has not exited `grace` seconds later."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(health_url: str) -> bool:
    """Whether a Prefect server's health check answers 200 (asked directly, never through a proxy)."""
    import urllib.error
    import urllib.request

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with direct.open(health_url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class TemporaryServer:
    """A temporary Prefect API server in a subprocess, started early (see the module docstring)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _launch(self) -> None:
        self.port = free_port()
        args, extra = _command(self.port)
        self.process = subprocess.Popen(args, env={**os.environ, **extra},
                                        preexec_fn=stop_with_parent if sys.platform == "linux" else None)

    def start(self) -> TemporaryServer:
        self._launch()
        atexit.register(self.stop)
        return self

    def wait(self, timeout: float) -> None:
        """Until the server answers its health check; RuntimeError when it exits or `timeout` passes."""
        deadline = time.monotonic() + timeout
        relaunched = 0
        while True:
            assert self.process is not None
            code = self.process.poll()
            if code == PORT_IN_USE and relaunched < RELAUNCHES and time.monotonic() < deadline:
                relaunched += 1  # the port was taken before uvicorn bound it: another one
                self._launch()
                continue
            if code is not None:  # Prefect's own launcher relaunches on code 3 until its timeout (90 s)
                raise RuntimeError(f"the temporary Prefect server exited with code {code} before it answered "
                                   f"({relaunched + 1} attempts; its errors are above)")
            if answers(f"{self.api_url}/health"):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for the temporary Prefect server "
                                   "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, grace=5)  # as Prefect stops its own


_running: TemporaryServer | None = None  # one per process, as Prefect's, for every run it makes


def start() -> TemporaryServer | None:
    """Launch a temporary server now (or return the one this process launched before), unless the
    environment names a server (PREFECT_API_URL)."""
    global _running
    if os.environ.get("PREFECT_API_URL"):
        return None
    if _running is not None and _running.process is not None and _running.process.poll() is None:
        return _running
    try:
        _running = TemporaryServer().start()
    except (OSError, RuntimeError) as exc:  # Prefect starts its own as usual
        log.warning("could not start the temporary Prefect server early (%s); Prefect starts it", exc)
        _running = None
    return _running


def adopt(server: TemporaryServer | None) -> dict[Any, Any]:
    """Once Prefect is imported: the settings under which the flow runs against `server` (waited
    for until it answers), or {} when Prefect's own settings say otherwise (a profile's
    PREFECT_API_URL, no temporary servers allowed): then the early server is stopped."""
    if server is None:
        return {}
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_UI_URL,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        server.stop()
        return {}
    server.wait(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
    updates: dict[Any, Any] = {PREFECT_API_URL: server.api_url}
    if not PREFECT_UI_URL.value():  # unset: Prefect would derive it from the API's address, where no UI is
        updates[PREFECT_UI_URL] = ""  # served: no 'View at' link in the logs, as with its own temporary server
    return updates

