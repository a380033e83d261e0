"""`newsclean serve`: the clean-news flow on a schedule, through Prefect's scheduler.

Prefect cannot schedule on its embedded (ephemeral) server, so when no PREFECT_API_URL is set this
starts a local `prefect server start` of its own (its own PREFECT_HOME under OUT_DIR/.prefect,
analytics off, a free port), waits until it is healthy, serves the flow with the cron schedule,
and stops the server on exit. With PREFECT_API_URL set, it serves against that server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.tempserver import answers, free_port, stop_process, stop_with_parent

# Seconds the Prefect runner gets to stop after Ctrl-C (measured: serve exits ~3 s after it)
# before serve gives up on it, stops the local server and exits anyway.
STOP_GRACE_S = 20.0


def start_local_server(home: Path, port: int, timeout: float = 120.0) -> subprocess.Popen[bytes]:
    """Start `prefect server start` on 127.0.0.1:port with its own PREFECT_HOME; return once healthy."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
           "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "ab")  # noqa: SIM115 (kept open for the server's lifetime)
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=stop_with_parent if sys.platform == "linux" else None)
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local Prefect server exited with status {proc.returncode}; see {home}/server.log")
        if answers(url):
            return proc
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"the local Prefect server did not become healthy in {timeout:.0f} s; see {home}/server.log")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc, grace=15)


def exit_after_interrupt(grace: float, cleanup: Callable[[], None]) -> None:
    """Ctrl-C (SIGINT) stops this process within `grace` seconds, whatever it is waiting on.

    The first SIGINT raises KeyboardInterrupt in the main thread as usual, and starts a watchdog:
    if the process is still alive `grace` seconds later (a shutdown stuck in a library's cleanup),
    it prints why, runs `cleanup` and exits with status 130. Call from the main thread."""
    started = threading.Event()

    def watchdog() -> None:
        time.sleep(grace)
        print(f"newsclean: still stopping {grace:.0f} s after Ctrl-C; exiting without waiting further",
              file=sys.stderr, flush=True)
        try:
            cleanup()
        finally:
            os._exit(130)

    def on_sigint(signum: int, frame: Any) -> None:
        if not started.is_set():
            started.set()
            threading.Thread(target=watchdog, name="newsclean-stop-watchdog", daemon=True).start()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, on_sigint)


def serve(raw_dir: str, out_dir: str, cron: str, name: str, port: int | None, parameters: dict[str, Any]) -> int:
    """Serve the flow on `cron` until interrupted. Returns an exit status."""
    out = Path(out_dir).resolve()
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        port = port or free_port()
        print(f"newsclean: starting a local Prefect server on http://127.0.0.1:{port} "
              f"(PREFECT_HOME={out / '.prefect'})", flush=True)
        server = start_local_server(out / ".prefect", port)
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    exit_after_interrupt(STOP_GRACE_S, lambda: stop_server(server) if server is not None else None)
    try:
        from flows.flow import clean_news

        params = {"raw_dir": str(Path(raw_dir).resolve()), "out_dir": str(out), **parameters}
        print(f"newsclean: serving deployment clean-news/{name} on schedule '{cron}' "
              f"(API {os.environ['PREFECT_API_URL']}); Ctrl-C stops", flush=True)
        clean_news.serve(name=name, cron=cron, parameters=params, print_starting_message=False)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            stop_server(server)
